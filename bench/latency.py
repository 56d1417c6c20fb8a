"""Control latency of a running, idle `filehost-tui run`: how soon work reaches the wire, and how
soon a cancel stops it.

- add -> first byte: `filehost-tui add FILE --host 0x0` in a fresh interpreter; time from the
  command returning to the first byte of the upload request arriving at the loopback sink
  (median of --adds, default 20). Negative means the upload started before `add` had exited.
- cancel -> stop: an upload paced by a per-host cap is running; `filehost-tui cancel ID`; time from
  the command returning to the sink seeing the connection end (median of --cancels, default 5;
  between tries `retry ID` queues the same upload again).

    python bench/latency.py [--adds N] [--cancels N]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import checkout  # noqa: F401  (this checkout first on sys.path)
from datafiles import random_file, sparse_file
from homes import cli_args, cli_env, cli_measured, make_home, queued_ids, upload_statuses
from sink import Received, Sink
from table import median, percentile, print_table

CAP = 20 * 1024 * 1024  # bytes/s: long enough to cancel mid-transfer, short enough not to wait


def start_runner(home: Path) -> subprocess.Popen[str]:
    runner = subprocess.Popen(
        cli_args(home, "run"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=cli_env(),
    )
    assert runner.stdout is not None
    line = runner.stdout.readline()
    if "runner started" not in line:
        raise RuntimeError(f"runner did not start: {line}{runner.stdout.read()}")
    deadline = time.monotonic() + 30
    while not (home / "runner.lock").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(1.0)  # workers asleep: measure an idle runner
    return runner


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.005)


def add_latency(home: Path, sink: Sink, files: list[Path]) -> list[tuple[float, float, float]]:
    """(add command seconds, add start -> first byte, add return -> first byte) per file."""
    out = []
    for n, path in enumerate(files):
        before = len(sink.uploads)
        started = time.monotonic()
        cli_measured(home, "add", str(path), "--host", "0x0")
        returned = time.monotonic()
        if not sink.wait_started(before + 1, 60) or not sink.wait_finished(before + 1, 60):
            raise RuntimeError(f"upload {n} never reached the sink")
        rec = sink.uploads[before]
        out.append((returned - started, rec.first_byte - started, rec.first_byte - returned))
        wait_for(lambda: "uploading" not in upload_statuses(home).values(), 30, "completion")
    return out


def cancel_latency(home: Path, sink: Sink, path: Path, tries: int) -> list[tuple[float, float]]:
    """(cancel command seconds, cancel return -> transfer stopped) per try."""
    upload_id = 0
    out = []
    for n in range(tries):
        before = len(sink.uploads)
        if n:
            cli_measured(home, "retry", str(upload_id))
        else:
            added = cli_measured(home, "add", str(path), "--host", "0x0")
            (upload_id,) = queued_ids(added.stdout)
        if not sink.wait_started(before + 1, 60):
            raise RuntimeError("the capped upload never started")
        rec: Received = sink.uploads[before]
        wait_for(lambda r=rec: r.body_bytes > 2 * CAP // 4, 30, "bytes on the wire")
        started = time.monotonic()
        cli_measured(home, "cancel", str(upload_id))
        returned = time.monotonic()
        wait_for(lambda r=rec: r.ended is not None, 60, "the transfer to stop")
        if rec.complete:
            raise RuntimeError("the upload finished before the cancel; raise its size")
        out.append((returned - started, rec.ended - returned))
        wait_for(lambda u=upload_id: upload_statuses(home)[u] == "cancelled", 30, "cancelled row")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adds", type=int, default=20, help="uploads to time (default 20)")
    parser.add_argument("--cancels", type=int, default=5, help="cancels to time (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fht-bench-") as tmp, Sink() as sink:
        work = Path(tmp)
        files = [work / f"small-{n:02d}.bin" for n in range(args.adds + 1)]
        for f in files:
            random_file(f, 256 * 1024)
        big = work / "big.bin"
        sparse_file(big, 4 * 1024**3)
        home = make_home(
            work / "home", {"0x0": sink.base_url}, {"0x0": f"max_upload_speed = {CAP}"}
        )
        runner = start_runner(home)
        try:
            adds = add_latency(home, sink, files)[1:]  # the first one warms the page cache
            cancels = cancel_latency(home, sink, big, args.cancels)
        finally:
            runner.terminate()
            runner.communicate(timeout=60)
    ms = 1000.0
    rows = []
    for label, values in (
        ("`add` command wall time", [a[0] for a in adds]),
        ("add started -> first byte at sink", [a[1] for a in adds]),
        ("add returned -> first byte at sink", [a[2] for a in adds]),
        ("`cancel` command wall time", [c[0] for c in cancels]),
        ("cancel started -> transfer stopped", [c[0] + c[1] for c in cancels]),
        ("cancel returned -> transfer stopped", [c[1] for c in cancels]),
    ):
        rows.append([label, len(values), *(v * ms for v in (
            median(values), percentile(values, 95), min(values), max(values)))])  # fmt: skip
    print_table(
        "Latency with an idle runner (milliseconds)",
        ["what", "n", "median", "p95", "min", "max"],
        rows,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
