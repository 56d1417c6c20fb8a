"""TUI responsiveness over a 10,000-upload queue, idle and while 4 uploads run at full speed.

The real app runs in a child process on a pseudo-terminal (tui_driver.py); this process types keys
and watches what it paints. Scenarios, each on a database of --rows finished uploads:
- idle: time to first screen (process start to the table header painted), to interactive (the
  first `?` typed at first paint is answered by the help screen), to the whole table loaded;
- in-process: 4 uploads of sparse files to 4 loopback sinks run in the app's own engine;
- attached: the same 4 uploads in a separate `filehost-tui run`, the app attached to it.
While uploading: `?` typed --presses times, key to help screen painted (then escape); event-loop
lag (10 ms probe on the app's loop: p95 and max); CPU seconds of the app process, and of its
event-loop thread, per second of uploading (in-process, the process figure includes the uploads).

    python bench/tui.py [--rows N] [--presses N] [--cap MiB/s]

--cap sets max_upload_speed on each of the 4 hosts, to see the app at a real link's speed rather
than loopback's (where the uploads and the sinks saturate both cores).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import checkout  # noqa: F401  (this checkout first on sys.path)
from datafiles import sparse_file
from homes import cli, cli_args, cli_env, make_home
from sink import Sink
from table import median, percentile, print_table
from tui_driver import TuiProcess, fill_queue

HEADER = b"link / error"
HELP = b"Move in the uploads table"
UPLOAD_SIZE = 256 * 1024**3  # sparse: never finishes during the measurement, costs no disk


def key_latencies(tui: TuiProcess, presses: int) -> list[float]:
    out = []
    for _ in range(presses):
        sent, offset = tui.press(b"?")
        shown, _ = tui.wait_for(HELP, offset, timeout=30)
        out.append(shown - sent)
        time.sleep(0.15)
        tui.press(b"\x1b")
        time.sleep(0.35)
    return out


def idle_scenario(work: Path, sink: Sink, rows: int) -> dict:
    home = make_home(work / "idle", {"0x0": sink.base_url})
    fill_queue(home, rows, work / "files")
    tui = TuiProcess(home, home / "control", rows)
    try:
        first, offset = tui.wait_for(HEADER, 0)
        sent, _ = tui.press(b"?")
        interactive, _ = tui.wait_for(HELP, offset)
        tui.press(b"\x1b")
        deadline = time.monotonic() + 120
        while not (tui.control / "loaded").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)
        tui.phase("idle")
        time.sleep(3)
        report = tui.stop()
    finally:
        tui.kill()
    return {
        "first_screen": first - tui.started,
        "interactive": interactive - tui.started,
        "loaded": (report["loaded_at"] or float("nan")) - tui.started,
        "report": report,
    }


def upload_home(
    work: Path, name: str, sinks: list[Sink], rows: int, cap: int = 0
) -> tuple[Path, list[str]]:
    ids = ["0x0", "bench2", "bench3", "bench4"]
    settings = {h: f"max_upload_speed = {cap}" for h in ids} if cap else None
    urls = {h: s.base_url for h, s in zip(ids, sinks, strict=True)}
    home = make_home(work / name, urls, settings)
    fill_queue(home, rows, work / "files")
    big = work / "big.bin"
    if not big.exists():
        sparse_file(big, UPLOAD_SIZE)
    cli(home, "add", str(big), *[a for h in ids for a in ("--host", h)])
    return home, ids


def wait_transfers(sinks: list[Sink], timeout: float = 60) -> None:
    for s in sinks:
        if not s.wait_started(1, timeout):
            raise RuntimeError("an upload never reached its sink")
    time.sleep(1.0)  # past the start-up burst: measure the steady state


def busy_scenario(
    work: Path, sinks: list[Sink], rows: int, presses: int, attached: bool, cap: int = 0
) -> dict:
    for s in sinks:
        s.reset()
    name = "attached" if attached else "in-process"
    home, _ = upload_home(work, name, sinks, rows, cap)
    runner = tui = None
    if attached:
        runner = subprocess.Popen(
            cli_args(home, "run"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=cli_env(),
        )  # fmt: skip
        wait_transfers(sinks)
    try:
        tui = TuiProcess(home, home / "control", rows)
        tui.wait_for(HEADER, 0)
        wait_transfers(sinks)
        tui.phase("uploading")
        before = sum(r.body_bytes for s in sinks for r in s.uploads)
        started = time.monotonic()
        latencies = key_latencies(tui, presses)
        moved = sum(r.body_bytes for s in sinks for r in s.uploads) - before
        rate = moved / (time.monotonic() - started)
        report = tui.stop()
    finally:
        if tui is not None:
            tui.kill()
        if runner is not None:
            runner.terminate()
            runner.wait(60)
    still = sum(1 for s in sinks for r in s.uploads if r.ended is None or not r.complete)
    return {"keys": latencies, "report": report, "rate": rate, "running": still}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="uploads in the queue")
    parser.add_argument("--presses", type=int, default=20, help="key presses per scenario")
    parser.add_argument(
        "--cap", type=float, default=0, help="max_upload_speed per host, MiB/s (0: none)"
    )
    args = parser.parse_args()
    cap = int(args.cap * 2**20)
    ms = 1000.0
    with tempfile.TemporaryDirectory(prefix="fht-bench-") as tmp:
        work = Path(tmp)
        sinks = [Sink() for _ in range(4)]
        for s in sinks:
            s.__enter__()
        try:
            idle = idle_scenario(work, sinks[0], args.rows)
            busy = {
                mode: busy_scenario(work, sinks, args.rows, args.presses, mode == "attached", cap)
                for mode in ("in-process", "attached")
            }
        finally:
            for s in sinks:
                s.__exit__(None, None, None)
    print_table(
        f"TUI start-up with {args.rows} uploads in the database (seconds from process start)",
        ["first screen", "interactive (first key answered)", "whole table loaded"],
        [[idle["first_screen"], idle["interactive"], idle["loaded"]]],
    )
    rows = []
    phase = idle["report"]["phases"]["idle"]
    rows.append(["idle", "-", "-", phase["lag_p95_ms"], phase["lag_max_ms"],
                 phase["cpu_s"] / phase["wall_s"], phase["loop_cpu_s"] / phase["wall_s"], "-"])  # fmt: skip
    for mode, result in busy.items():
        keys, phase = result["keys"], result["report"]["phases"]["uploading"]
        rows.append([
            f"4 uploads{f' at {args.cap:g} MiB/s' if cap else ''}, {mode}", median(keys) * ms, percentile(keys, 95) * ms,
            phase["lag_p95_ms"], phase["lag_max_ms"], phase["cpu_s"] / phase["wall_s"],
            phase["loop_cpu_s"] / phase["wall_s"], result["rate"] / 2**20,
        ])  # fmt: skip
    print_table(
        "TUI responsiveness (key = `?` typed until the help screen is painted)",
        ["scenario", "key median ms", "key p95 ms", "loop lag p95 ms", "loop lag max ms",
         "app CPU s/s", "loop thread CPU s/s", "upload MiB/s meanwhile"],
        rows,
    )  # fmt: skip
    print("app CPU s/s in-process includes the uploads themselves (pycurl runs in the app).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
