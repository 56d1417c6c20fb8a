"""Archive speed: filehost_tui.engine.archive.build_archive against `tar -cf` and `zip -0 -r` of the
same folder (a --size MiB gallery: a few large files and many small ones in subfolders).

build_archive fsyncs its archive before renaming it (crash safety) and tar does not, so tar is
also timed followed by an fsync of its output. Each tool runs --rounds times in alternating order; the output goes to the same file system, is
removed after each run, and the page cache holds the source (it is read once before timing), so
the figures compare the archivers, not the disk.

    python bench/archive.py [--size MiB] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import checkout  # noqa: F401  (this checkout first on sys.path)
from datafiles import mixed_folder
from table import median, mib, print_table

from filehost_tui.engine.archive import build_archive


def warm(folder: Path) -> None:
    for root, _, files in os.walk(folder):
        for name in files:
            with open(os.path.join(root, name), "rb") as fh:
                while fh.read(8 << 20):
                    pass


def tools(folder: Path, out: Path) -> dict[str, Callable[[], Path]]:
    def project() -> Path:
        return build_archive(folder, out / "project.zip")

    def tar() -> Path:
        subprocess.run(["tar", "-cf", str(out / "tar.tar"), "-C", str(folder), "."], check=True)
        return out / "tar.tar"

    def tar_fsync() -> Path:
        """tar, then made durable the way build_archive makes its archive durable."""
        made = tar()
        fd = os.open(made, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return made

    def zip_() -> Path:
        subprocess.run(["zip", "-q", "-0", "-r", str(out / "zip.zip"), "."], cwd=folder, check=True)
        return out / "zip.zip"

    found = {"build_archive": project}
    if shutil.which("tar"):
        found["tar -cf"] = tar
        found["tar -cf + fsync"] = tar_fsync
    if shutil.which("zip"):
        found["zip -0 -r"] = zip_
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1024, help="folder size in MiB (default 1024)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each tool (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fht-bench-") as tmp:
        work = Path(tmp)
        folder, out = work / "gallery", work / "out"
        out.mkdir()
        files, nbytes = mixed_folder(folder, args.size * 1024 * 1024)
        warm(folder)
        runs = tools(folder, out)
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        sizes: dict[str, int] = {}
        for n in range(args.rounds):
            order = list(runs.items()) if n % 2 == 0 else list(reversed(runs.items()))
            for name, run in order:
                start = time.monotonic()
                made = run()
                seconds[name].append(time.monotonic() - start)
                sizes[name] = made.stat().st_size
                made.unlink()
    base = median(seconds["build_archive"])
    rows = [
        [name, median(t), min(t), mib(nbytes) / median(t), mib(sizes[name]), median(t) / base]
        for name, t in seconds.items()
    ]
    print_table(
        f"Archiving a {mib(nbytes):.0f} MiB folder of {files} files ({args.rounds} runs each)",
        ["tool", "median s", "best s", "MiB/s", "output MiB", "time / build_archive"],
        rows,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
