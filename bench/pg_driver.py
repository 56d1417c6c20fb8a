"""Which PostgreSQL driver the shared queue uses: claim → progress → complete of N uploads through
QueueStore on psycopg 3 and on psycopg2 (both through peewee), with SQLite for reference.

    python bench/pg_driver.py [--uploads N] [--rounds N] [--url URL]

Needs both drivers installed (`pip install psycopg[binary] psycopg2-binary`) and a server
(default postgresql://postgres@127.0.0.1:5432/test); each round uses a schema of its own.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import peewee
from pg_schemas import throwaway_queue
from table import print_table

from filehost_tui.engine.database import open_database
from filehost_tui.engine.pg_database import PgQueueDatabase
from filehost_tui.engine.queue_store import QueueStore


class Psycopg2Database(PgQueueDatabase):
    """The same database class on psycopg2: peewee takes psycopg 3 only when asked to."""

    def __init__(self, url: str) -> None:
        super().__init__(url, prefer_psycopg3=False)


def run_round(db: peewee.Database, files: list[Path]) -> float:
    """Seconds per upload for claim, one progress write and complete (with its lease)."""
    store = QueueStore(db, host_limits={"sink": None})
    store.add(files, ["sink"])
    start = time.perf_counter()
    while (up := store.claim("sink", "bench")) is not None:
        store.progress(up.id, up.total_bytes, up.lease)
        store.complete(up.id, f"http://127.0.0.1/{up.id}", None, lease=up.lease)
    return (time.perf_counter() - start) / len(files)


def pg_round(server: str, factory: type[PgQueueDatabase], files: list[Path]) -> float:
    with throwaway_queue(server, factory) as db:
        return run_round(db, files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = []
        for n in range(args.uploads):
            files.append(root / f"f{n}.bin")
            files[-1].write_bytes(b"x" * 100)
        results: dict[str, list[float]] = {"psycopg 3": [], "psycopg2": [], "SQLite (WAL)": []}
        for r in range(args.rounds):  # alternating, so load on the machine hits each alike
            results["psycopg 3"].append(pg_round(args.url, PgQueueDatabase, files))
            results["psycopg2"].append(pg_round(args.url, Psycopg2Database, files))
            db = open_database(root / f"r{r}.db")
            results["SQLite (WAL)"].append(run_round(db, files))
            db.close()
    rows = [
        [
            name,
            f"{statistics.median(t) * 1000:.2f}",
            f"{min(t) * 1000:.2f}",
            f"{1 / statistics.median(t):.0f}",
        ]
        for name, t in results.items()
    ]
    print_table(
        f"{args.uploads} uploads × {args.rounds} rounds: claim + progress + complete",
        ["database", "ms/upload (median)", "ms/upload (best)", "uploads/s"],
        rows,
    )


if __name__ == "__main__":
    main()
