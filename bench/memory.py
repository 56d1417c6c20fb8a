"""Peak memory (RSS) of the runner uploading a large file, next to curl doing the same, and of the
TUI showing a 10,000-upload queue.

- runner: `filehost-tui run --until-idle` uploading a --size GiB sparse file (default 4) to a
  loopback 0x0 sink; peak RSS from wait4() of the process. A 1 MiB upload gives the baseline, so
  the difference is what the file's size costs (it should be ~0: files are streamed).
- curl: `curl -F file=@FILE` of the same file, for scale.
- TUI: the app in a headless child process over a database of --rows uploads (default 10,000),
  peak RSS once the whole table is on screen (see tui_driver.py).

    python bench/memory.py [--size GiB] [--rows N]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import checkout  # noqa: F401  (this checkout first on sys.path)
from datafiles import random_file, sparse_file, warm
from homes import cli_measured, make_home, read_metrics, run_measured
from sink import Sink
from table import mib, print_table
from tui_driver import fill_queue, run_driver


def runner_rss(work: Path, sink: Sink, path: Path, tag: str) -> tuple[int, float]:
    home = make_home(work / f"home-{tag}", {"0x0": sink.base_url})
    try:
        cli_measured(home, "add", str(path), "--host", "0x0")
        ran = cli_measured(home, "run", "--until-idle")
        (metric,) = read_metrics(home)
        if metric.status != "success":
            raise RuntimeError(f"upload failed: {metric}")
        return ran.max_rss, ran.cpu_s
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=float, default=4, help="upload size in GiB (default 4)")
    parser.add_argument("--rows", type=int, default=10_000, help="TUI queue rows (default 10000)")
    parser.add_argument("--no-tui", action="store_true", help="skip the TUI measurement")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="fht-bench-") as tmp, Sink() as sink:
        work = Path(tmp)
        small, big = work / "small.bin", work / "big.bin"
        random_file(small, 1024 * 1024)
        sparse_file(big, int(args.size * 1024**3))
        warm(big)  # the same page-cache state for the runner and for curl
        base, base_cpu = runner_rss(work, sink, small, "small")
        peak, cpu = runner_rss(work, sink, big, "big")
        rows.append(["runner, 1 MiB upload (baseline)", mib(base), base_cpu])
        rows.append([f"runner, {args.size:g} GiB upload", mib(peak), cpu])
        curl = run_measured(["curl", "-sS", "-o", "/dev/null", "-F", f"file=@{big}", sink.base_url])
        rows.append([f"curl -F, {args.size:g} GiB upload", mib(curl.max_rss), curl.cpu_s])
        if not args.no_tui:
            home = work / "tui-home"
            make_home(home, {"0x0": sink.base_url})
            fill_queue(home, args.rows, work / "tui-files")
            report = run_driver(home, "memory", args.rows)
            rows.append(
                [f"TUI, {args.rows} uploads listed", mib(report["max_rss"]), report["cpu_s"]]
            )
    print_table("Peak memory", ["process", "peak RSS MiB", "CPU s"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
