"""Folders streamed as ZIP: `add` + `run --until-idle` of a folder against the same for a pre-built
ZIP of it, to the loopback sink, in alternating rounds; the cache directory sampled meanwhile;
the same folder cut into volumes (`split_size`); and, for a 10 GiB folder of sparse files, the
time from starting `run` to the first byte at the sink.

Every streamed upload is checked: the sink's CRC32 of the received file bytes must equal the
CRC32 of the pre-built ZIP (which `zipfile` tests against the folder first), so the stream sent
exactly the archive's bytes. Each volume's CRC32 must equal that of its slice of the pre-built
ZIP, in name order, so `cat gallery.zip.*` of what the sink received is the whole archive.

    python bench/streaming.py [--size MiB] [--rounds N] [--first-byte-gib N] [--volume-mib N]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import tempfile
import threading
import time
import zipfile
import zlib
from pathlib import Path

import checkout  # noqa: F401  (this checkout first on sys.path)
from datafiles import mixed_folder, sparse_file, warm
from homes import cli, cli_args, cli_env, make_home
from sink import Sink
from table import median, mib, print_table

from filehost_tui.engine.zip_stream import build_archive


class CacheSampler:
    """Peak bytes under a directory, sampled every 10 ms in a thread."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CacheSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            total = 0
            for base, _, files in os.walk(self.root):
                for name in files:
                    with contextlib.suppress(OSError):  # removed between walk and stat
                        total += os.stat(os.path.join(base, name)).st_size
            self.peak = max(self.peak, total)
            self.samples += 1


def crc_of(path: Path) -> int:
    crc = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(8 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


def one_round(work: Path, sink: Sink, item: Path, tag: str) -> tuple[float, int, int, int]:
    """(wall s of add + run --until-idle, peak cache bytes, samples, CRC32 received)."""
    home = make_home(work / f"home-{tag}", {"0x0": sink.base_url})
    before = sink.count()
    with CacheSampler(home / "cache") as sampler:
        started = time.monotonic()
        cli(home, "add", str(item), "--host", "0x0")
        cli(home, "run", "--until-idle")
        wall = time.monotonic() - started
    if not sink.wait_finished(before + 1, 60):
        raise RuntimeError("the upload never finished at the sink")
    rec = sink.uploads[before]
    if not rec.complete:
        raise RuntimeError("the sink saw an incomplete upload")
    return wall, sampler.peak, sampler.samples, rec.crc32


def volumes_round(
    work: Path, sink: Sink, folder: Path, prebuilt: Path, volume: int
) -> tuple[float, int]:
    """(wall s of add + run --until-idle of `folder` cut into volumes of `volume` bytes, peak
    cache bytes); raises unless the parts, in name order, are the pre-built ZIP's slices."""
    home = make_home(
        work / f"home-volumes-{sink.count()}",
        {"0x0": sink.base_url},
        {"0x0": f"split_size = {volume}"},
    )
    before = sink.count()
    with CacheSampler(home / "cache") as sampler:
        started = time.monotonic()
        cli(home, "add", str(folder), "--host", "0x0")
        cli(home, "run", "--until-idle")
        wall = time.monotonic() - started
    parts = -(-prebuilt.stat().st_size // volume)
    if not sink.wait_finished(before + parts, 60):
        raise RuntimeError("the volumes never finished at the sink")
    received = sorted(sink.uploads[before:], key=lambda r: r.filename)
    with open(prebuilt, "rb") as fh:
        for n, rec in enumerate(received, start=1):
            crc, left = 0, volume
            while left and (chunk := fh.read(min(left, 8 << 20))):
                crc, left = zlib.crc32(chunk, crc), left - len(chunk)
            if (rec.filename, rec.crc32) != (f"{folder.name}.zip.{n:03d}", crc):
                raise RuntimeError(f"volume {n} ({rec.filename}) is not its slice of the ZIP")
    return wall, sampler.peak


def sparse_folder(work: Path, gib: int, files: int = 1300) -> Path:
    folder = work / "sparse-gallery"
    for n in range(files):
        sparse_file(folder / f"album-{n // 200:02d}" / f"part-{n:05d}.bin", gib * 1024**3 // files)
    return folder


def first_byte(work: Path, sink: Sink, item: Path) -> float:
    """Seconds from starting `run` (a fresh interpreter) to the first byte at the sink."""
    home = make_home(work / f"home-first-{sink.count()}", {"0x0": sink.base_url})
    cli(home, "add", str(item), "--host", "0x0")
    before = sink.count()
    started = time.monotonic()
    runner = subprocess.Popen(
        cli_args(home, "run", "--until-idle"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_env(),
    )
    try:
        if not sink.wait_started(before + 1, 60):
            raise RuntimeError("the upload never reached the sink")
        return sink.uploads[before].first_byte - started
    finally:
        runner.terminate()
        runner.wait(60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1024, help="folder MiB (default 1024)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each (default 3)")
    parser.add_argument("--first-byte-gib", type=int, default=10, help="sparse folder GiB")
    parser.add_argument("--volume-mib", type=int, default=256, help="split_size (default 256)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fht-bench-") as tmp, Sink() as sink:
        work = Path(tmp)
        folder = work / "gallery"
        files, nbytes = mixed_folder(folder, args.size * 1024 * 1024)
        prebuilt = build_archive(folder, work / "prebuilt" / "gallery.zip")
        with zipfile.ZipFile(prebuilt) as zf:
            if zf.testzip() is not None:
                raise RuntimeError("the pre-built ZIP does not test clean")
        expected_crc = crc_of(prebuilt)
        for path in (prebuilt, *folder.rglob("*")):
            if path.is_file():
                warm(path)
        walls: dict[str, list[float]] = {
            "folder (streamed)": [],
            "pre-built ZIP": [],
            f"folder as {args.volume_mib} MiB volumes": [],
        }
        peaks: dict[str, int] = {"folder (streamed)": 0, "pre-built ZIP": 0}
        samples = 0
        for n in range(args.rounds):
            order = [("folder (streamed)", folder), ("pre-built ZIP", prebuilt)]
            for label, item in order if n % 2 == 0 else order[::-1]:
                wall, peak, count, crc = one_round(
                    work, sink, item, f"{n}-{len(walls[label])}-{label[0]}"
                )
                if crc != expected_crc:
                    raise RuntimeError(f"{label}: the sink received other bytes than the ZIP's")
                walls[label].append(wall)
                peaks[label] = max(peaks[label], peak)
                samples += count if label.startswith("folder") else 0
            label = f"folder as {args.volume_mib} MiB volumes"
            wall, peak = volumes_round(work, sink, folder, prebuilt, args.volume_mib * 1024 * 1024)
            walls[label].append(wall)
            peaks[label] = max(peaks.get(label, 0), peak)
        big = sparse_folder(work, args.first_byte_gib)
        small = work / "one-file.bin"
        small.write_bytes(os.urandom(1024 * 1024))
        firsts: dict[str, list[float]] = {"folder": [], "file": []}
        for _ in range(3):
            firsts["folder"].append(first_byte(work, sink, big))
            firsts["file"].append(first_byte(work, sink, small))
    base = median(walls["pre-built ZIP"])
    print_table(
        f"add + run --until-idle, {mib(nbytes):.0f} MiB in {files} files -> loopback sink",
        ["what", "median s", "best s", "MiB/s", "time / pre-built", "peak cache bytes"],
        [
            [
                label,
                median(v),
                min(v),
                mib(nbytes) / median(v),
                median(v) / base,
                peaks[label],
            ]
            for label, v in walls.items()
        ],
    )
    print(f"cache sampled {samples} times during the streamed rounds; received CRC32 matched")
    print("volumes: each part's CRC32 matched its slice of the ZIP, in name order")
    print_table(
        "`run` started -> first byte at the sink (median of 3, seconds)",
        ["item", "seconds"],
        [
            [f"{args.first_byte_gib} GiB folder, 1300 sparse files", median(firsts["folder"])],
            ["1 MiB file (interpreter and engine start-up alone)", median(firsts["file"])],
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
