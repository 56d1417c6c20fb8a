"""Write amplification: SQLite write statements and commits per upload.

One --size MiB upload (default 200) to a loopback 0x0 sink, at full speed and under a per-host cap
(`max_upload_speed`, default 5 MiB/s), with the engine in this process on a database opened with
open_database(trace=...), so every statement on every thread is seen. A write outside an explicit
transaction is its own commit (sqlite3 autocommit), so commits = COMMITs + such lone writes.

    python bench/db_writes.py [--size MiB] [--cap MiB/s]
"""

from __future__ import annotations

import argparse
import re
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import checkout  # noqa: F401  (this checkout first on sys.path)
from datafiles import sparse_file
from homes import make_home
from sink import Sink
from table import print_table

from filehost_tui.config import load_config
from filehost_tui.engine.database import open_database
from filehost_tui.engine.engine import Engine
from filehost_tui.engine.events import Event, UploadCompleted, UploadFailed, UploadStarted
from filehost_tui.hosts.spec_loader import load_specs
from filehost_tui.paths import AppPaths

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_TARGET = re.compile(
    r"^\s*(INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+\"?(\w+)", re.I
)


@dataclass
class SqlCounter:
    """The trace callback: counts writes (by statement and table), commits that wrote something,
    and transactions that wrote nothing (each still took the write lock: BEGIN IMMEDIATE), per
    phase. Peewee gives each thread its own connection, so transaction state is per thread."""

    phase: str = "setup"
    writes: Counter[tuple[str, str]] = field(default_factory=Counter)
    commits: Counter[str] = field(default_factory=Counter)
    empty_tx: Counter[str] = field(default_factory=Counter)
    _tx: dict[int, bool] = field(default_factory=dict)  # thread -> transaction open and dirty?
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, sql: str) -> None:
        verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        me = threading.get_ident()
        with self._lock:
            if verb == "BEGIN":
                self._tx[me] = False
            elif verb in ("COMMIT", "END") and me in self._tx:
                dirty = self._tx.pop(me)
                (self.commits if dirty else self.empty_tx)[self.phase] += 1
            elif verb == "ROLLBACK" and "SAVEPOINT" not in sql.upper():
                self._tx.pop(me, None)
            elif verb in WRITES:
                match = _TARGET.match(sql)
                what = (match.group(1).split()[0].upper(), match.group(2)) if match else (verb, "?")
                self.writes[(self.phase, f"{what[0]} {what[1]}")] += 1
                if me in self._tx:
                    self._tx[me] = True
                else:
                    self.commits[self.phase] += 1  # autocommit: a lone write is a commit

    def count(self, phase: str | None = None) -> int:
        return sum(v for (p, _), v in self.writes.items() if phase in (None, p))


class Phases:
    """Engine event sink that moves the counter from phase to phase and notes the transfer time."""

    def __init__(self, counter: SqlCounter) -> None:
        self.counter = counter
        self.done = threading.Event()
        self.started = self.ended = 0.0
        self.failed: str | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, UploadStarted):
            self.counter.phase, self.started = "upload", time.monotonic()
        elif isinstance(event, UploadCompleted | UploadFailed):
            self.ended = time.monotonic()
            self.counter.phase = "after"
            if isinstance(event, UploadFailed):
                self.failed = event.message
            self.done.set()


def measure(work: Path, sink: Sink, size_mib: int, cap: int) -> tuple[SqlCounter, Phases]:
    big = work / "big.bin"
    sparse_file(big, size_mib * 1024 * 1024)
    settings = {"0x0": f"max_upload_speed = {cap}"} if cap else None
    home = make_home(work / f"home-{cap}", {"0x0": sink.base_url}, settings)
    paths = AppPaths.resolve(home)
    counter = SqlCounter()
    db = open_database(paths.database, trace=counter)
    phases = Phases(counter)
    engine = Engine(
        paths, load_config(paths.config_file), load_specs(paths.user_hosts_dir), db, sink=phases
    )
    engine.start()
    try:
        counter.phase = "add"
        engine.queue.add([big], ["0x0"])
        counter.phase = "claim"
        engine.wake()
        if not phases.done.wait(size_mib * 2 + 600):
            raise RuntimeError("the upload did not finish")
        time.sleep(0.3)  # let the engine's last bookkeeping after the event land in "after"
    finally:
        engine.stop()
        db.close()
    if phases.failed:
        raise RuntimeError(f"upload failed: {phases.failed}")
    return counter, phases


PHASES = ("setup", "add", "claim", "upload", "after")


def _phase_order(item: tuple[tuple[str, str], int]) -> tuple[int, str]:
    (phase, what), _ = item
    return PHASES.index(phase), what


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=200, help="upload size in MiB (default 200)")
    parser.add_argument("--cap", type=float, default=5.0, help="capped run's MiB/s (default 5)")
    args = parser.parse_args()
    rows, breakdown = [], []
    per_upload = ("add", "claim", "upload", "after")
    with tempfile.TemporaryDirectory(prefix="fht-bench-") as tmp, Sink() as sink:
        for label, cap in (("full speed", 0), (f"cap {args.cap:g} MiB/s", int(args.cap * 2**20))):
            counter, phases = measure(Path(tmp), sink, args.size, cap)
            seconds = phases.ended - phases.started
            rows.append([
                label, round(seconds, 2), sum(counter.count(p) for p in per_upload),
                sum(counter.commits[p] for p in per_upload),
                sum(counter.empty_tx[p] for p in per_upload),
                counter.count("upload"), counter.count("upload") / seconds,
                counter.count("setup"),
            ])  # fmt: skip
            for (phase, what), n in sorted(counter.writes.items(), key=_phase_order):
                breakdown.append([label, phase, what, n])
            for phase in ("setup", *per_upload):
                breakdown.append(
                    [label, phase, "(commits / empty BEGIN IMMEDIATE)",
                     f"{counter.commits[phase]} / {counter.empty_tx[phase]}"]
                )  # fmt: skip
    print_table(
        f"SQLite writes for one {args.size} MiB upload (engine in-process, traced)",
        ["run", "upload s", "writes", "commits", "empty tx", "writes uploading",
         "writes/s uploading", "runner start writes"],
        rows,
    )  # fmt: skip
    print(
        "writes/commits: from `add` to the end (add, claim, transfer, completion); empty tx: "
        "transactions that wrote nothing\n(still BEGIN IMMEDIATE, so they take the write lock); "
        "runner start: schema, session mark, sample pruning (once per start)."
    )
    print_table("Writes by phase and statement", ["run", "phase", "statement", "count"], breakdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
