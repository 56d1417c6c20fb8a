"""Thousands of small files: the project against a curl process per file.

--files files of --size bytes (default 2,000 x 10 kB, random content) go to one loopback 0x0 sink:
(a) one `curl -F file=@FILE` process per file, --connections of them at a time (a thread pool of
subprocesses, like `xargs -P`); (b) the project as a user runs it: `filehost-tui add` of every path
in one call, then `run --until-idle`, with the host's `max_connections` = --connections. Both are
checked at the sink (every file arrived whole). Then (c) the same queue run by an engine in this
process on a traced database, to count SQLite commits per upload and name the statements; and,
unless --no-tui, (d) the TUI's event-loop lag while it uploads the files itself.

Printed: uploads/s (wall time of the whole run, and the sink's window from the first request's
first byte to the last body's end), TCP connections the sink accepted, the gap on one connection
from a body's end to the next request's first byte, commits per upload, the `add` wall time.

    python bench/small_files.py [--files N] [--size BYTES] [--connections N] [--no-tui]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import checkout  # noqa: F401  (this checkout first on sys.path)
from db_writes import SqlCounter
from homes import cli_measured, make_home, upload_statuses
from sink import Received, Sink
from table import median, percentile, print_table

from filehost_tui.config import load_config
from filehost_tui.engine.database import open_database
from filehost_tui.engine.engine import Engine
from filehost_tui.engine.events import Event, UploadCompleted, UploadFailed
from filehost_tui.hosts.spec_loader import load_specs
from filehost_tui.paths import AppPaths


@dataclass(frozen=True)
class Round:
    name: str
    files: int
    wall_s: float
    window_s: float
    connections: int
    gaps_ms: list[float]
    add_s: float | None = None
    cpu_s: float | None = None

    @property
    def per_s(self) -> float:
        return self.files / self.wall_s

    @property
    def window_per_s(self) -> float:
        return self.files / self.window_s if self.window_s > 0 else float("nan")


def make_files(root: Path, count: int, size: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = root / f"sample-{n:05d}.bin"
        if not (path.exists() and path.stat().st_size == size):
            path.write_bytes(os.urandom(size))
        paths.append(path)
    return paths


def sink_figures(sink: Sink, files: int, size: int) -> tuple[float, list[float]]:
    """The sink's window (first byte of the first request to the end of the last body) and, per
    connection, each gap from a body's end to the next request's first byte (ms)."""
    seen = sink.uploads
    whole = [r for r in seen if r.complete and r.file_bytes == size]
    if len(whole) != files:
        raise RuntimeError(f"the sink got {len(whole)} whole files of {files}")
    window = max(r.ended or 0.0 for r in seen) - min(r.first_byte for r in seen)
    by_conn: dict[int, list[Received]] = defaultdict(list)
    for r in seen:
        by_conn[r.connection].append(r)
    gaps = []
    for recs in by_conn.values():
        recs.sort(key=lambda r: r.first_byte)
        gaps += [(b.first_byte - a.ended) * 1000 for a, b in pairwise(recs) if a.ended]
    return window, gaps


def curl_round(paths: list[Path], size: int, parallel: int) -> Round:
    with Sink() as sink:
        url = f"{sink.base_url}/"

        def one(path: Path) -> None:
            done = subprocess.run(
                ["curl", "-sS", "-F", f"file=@{path}", url], capture_output=True, text=True
            )
            if done.returncode != 0:
                raise RuntimeError(f"curl exited {done.returncode}: {done.stderr}")

        started = time.monotonic()
        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(one, paths))
        wall = time.monotonic() - started
        window, gaps = sink_figures(sink, len(paths), size)
        return Round("curl per file", len(paths), wall, window, sink.connections, gaps)


def project_round(work: Path, paths: list[Path], size: int, parallel: int) -> Round:
    with Sink() as sink:
        home = make_home(
            work / "home-cli",
            {"0x0": sink.base_url},
            {"0x0": f"max_connections = {parallel}"},
            extra=f"[limits]\nmax_concurrent = {max(4, parallel)}",
        )
        added = cli_measured(home, "add", *map(str, paths), "--host", "0x0")
        ran = cli_measured(home, "run", "--until-idle")
        states = set(upload_statuses(home).values())
        if states != {"completed"}:
            raise RuntimeError(f"uploads ended {states}")
        window, gaps = sink_figures(sink, len(paths), size)
        return Round(
            "project (add + run)", len(paths), ran.wall_s, window, sink.connections, gaps,
            add_s=added.wall_s, cpu_s=ran.cpu_s,
        )  # fmt: skip


class Finished:
    """Engine event sink: set once `expected` uploads ended."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.ended = 0
        self.failed: list[str] = []
        self.done = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if isinstance(event, UploadCompleted | UploadFailed):
            with self._lock:
                self.ended += 1
                if isinstance(event, UploadFailed):
                    self.failed.append(event.message)
                if self.ended >= self.expected:
                    self.done.set()


def commit_count(work: Path, paths: list[Path], parallel: int) -> SqlCounter:
    """Commits and write statements per upload, engine in this process on a traced database."""
    with Sink() as sink:
        home = make_home(
            work / "home-traced",
            {"0x0": sink.base_url},
            {"0x0": f"max_connections = {parallel}"},
            extra=f"[limits]\nmax_concurrent = {max(4, parallel)}",
        )
        app_paths = AppPaths.resolve(home)
        counter = SqlCounter()
        db = open_database(app_paths.database, trace=counter)
        ended = Finished(len(paths))
        config = load_config(app_paths.config_file)
        engine = Engine(app_paths, config, load_specs(app_paths.user_hosts_dir), db, sink=ended)
        engine.start()
        try:
            counter.phase = "add"
            engine.queue.add(paths, ["0x0"])
            counter.phase = "run"
            engine.wake()
            if not ended.done.wait(600):
                raise RuntimeError("the uploads did not finish")
            counter.phase = "after"
        finally:
            engine.stop()
            db.close()
        if ended.failed:
            raise RuntimeError(f"{len(ended.failed)} uploads failed: {ended.failed[0]}")
    return counter


def tui_lag(work: Path, paths: list[Path], size: int, parallel: int) -> dict:
    """Event-loop lag of the real TUI while its own engine uploads the files. (Key latency as
    bench/tui.py takes it is not printed: with the table repainting hundreds of times a second, the
    help text it waits for can arrive in a repaint before the key is handled.)"""
    from tui_driver import TuiProcess

    with Sink() as sink:
        home = make_home(
            work / "home-tui",
            {"0x0": sink.base_url},
            {"0x0": f"max_connections = {parallel}"},
            extra=f"[limits]\nmax_concurrent = {max(4, parallel)}",
        )
        cli_measured(home, "add", *map(str, paths), "--host", "0x0")
        control = work / "tui-control"
        control.mkdir()
        tui = TuiProcess(home, control, 0)
        try:
            tui.wait_for(b"link / error", 0)
            tui.phase("uploading")
            started = time.monotonic()
            sink.wait_finished(len(paths), 600)
            seconds = time.monotonic() - started
            tui.phase("done")
            report = tui.stop()
        except BaseException:
            tui.kill()
            raise
    phase = report["phases"].get("uploading", {})
    return {"seconds": seconds, "phase": phase, "uploaded": sink.count()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--size", type=int, default=10_000, help="bytes per file")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--no-tui", action="store_true", help="skip the TUI measurement")
    args = parser.parse_args()
    if shutil.which("curl") is None:
        parser.error("curl is not installed; it is the baseline")
    with tempfile.TemporaryDirectory(prefix="bench-small-") as tmp:
        work = Path(tmp)
        paths = make_files(work / "files", args.files, args.size)
        rounds = [
            curl_round(paths, args.size, args.connections),
            project_round(work, paths, args.size, args.connections),
        ]
        counter = commit_count(work, paths, args.connections)
        tui = None if args.no_tui else tui_lag(work, paths, args.size, args.connections)
    title = (
        f"{args.files} files of {args.size} B, {args.connections} connection(s), one loopback sink"
    )
    print_table(
        title,
        ["run", "uploads/s (wall)", "uploads/s (sink window)", "wall s", "TCP connections",
         "gap median ms", "gap p95 ms", "add s", "CPU s"],
        [
            [r.name, r.per_s, r.window_per_s, r.wall_s, r.connections,
             median(r.gaps_ms), percentile(r.gaps_ms, 95),
             "-" if r.add_s is None else r.add_s, "-" if r.cpu_s is None else r.cpu_s]
            for r in rounds
        ],
    )  # fmt: skip
    print(
        "wall: the run's process(es) from start to exit (for the project: `run --until-idle`, "
        "interpreter start included; `add` apart);\ngap: on one connection, from a body's last "
        "byte at the sink to the next request's first byte."
    )
    n = args.files
    rows = [
        ["commits per upload", counter.commits["run"] / n],
        ["empty BEGIN IMMEDIATE per upload", counter.empty_tx["run"] / n],
        *[
            [f"{what} per upload", count / n]
            for (phase, what), count in sorted(counter.writes.items())
            if phase == "run"
        ],
        ["commits for the add (all files)", counter.commits["add"]],
    ]
    print_table("SQLite work while the queue runs (engine in-process, traced)", ["what", "n"], rows)
    if tui is not None:
        phase = tui["phase"]
        print_table(
            "The TUI uploading the files itself",
            ["uploads/s", "loop lag p95 ms", "loop lag max ms", "loop-thread CPU s/s", "uploaded"],
            [[
                tui["uploaded"] / tui["seconds"],
                phase.get("lag_p95_ms", float("nan")), phase.get("lag_max_ms", float("nan")),
                phase.get("loop_cpu_s", float("nan")) / phase.get("wall_s", float("nan")),
                tui["uploaded"],
            ]],
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
