"""Bulk writes on PostgreSQL against SQLite: QueueStore.add of N paths to 2 hosts (what
`add --from` does after reading its list), then the reads `status` makes (QueueReads.counts) and
one claim, at that size.

    python bench/pg_bulk.py [--sizes 1000,10000,100000] [--url URL]

Each size gets a fresh SQLite file and a fresh PostgreSQL schema (dropped after); the paths are
hard links to one small file, made once (default server postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import checkout  # noqa: F401  (this checkout first on sys.path)
from pg_schemas import throwaway_queue
from table import print_table

from filehost_tui.engine.database import open_database
from filehost_tui.engine.queue_reads import QueueReads
from filehost_tui.engine.queue_store import QueueStore

HOSTS = ("a", "b")


def links(root: Path, n: int) -> list[Path]:
    """n hard links to small files (a file takes at most 65,000 links)."""
    out = []
    for i in range(n):
        source = root / f"source-{i // 50_000}.bin"
        if not source.exists():
            source.write_bytes(b"x" * 100)
        path = root / f"p{i:06d}.bin"
        if not path.exists():
            os.link(source, path)
        out.append(path)
    return out


def measure(db, paths: list[Path]) -> list[float]:
    """Seconds of add, counts and one claim."""
    store = QueueStore(db, host_limits={h: None for h in HOSTS})
    start = time.perf_counter()
    store.add(paths, list(HOSTS))
    added = time.perf_counter()
    counts = QueueReads(db).counts()
    counted = time.perf_counter()
    assert counts == {(h, "pending"): len(paths) for h in HOSTS}, counts
    assert store.claim(HOSTS[0], "bench") is not None
    return [added - start, counted - added, time.perf_counter() - counted]


def pg_measure(server: str, paths: list[Path]) -> list[float]:
    with throwaway_queue(server) as db:
        return measure(db, paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "paths").mkdir()
        for n in map(int, args.sizes.split(",")):
            paths = links(root / "paths", n)
            db = open_database(root / f"sqlite-{n}.db")
            try:
                lite = measure(db, paths)
            finally:
                db.close()
            pg = pg_measure(args.url, paths)
            for label, t in (("SQLite", lite), ("PostgreSQL", pg)):
                rows.append([f"{n:,}", label, *(f"{s:.3f}" for s in t)])
            rows.append(
                ["", "PG / SQLite", *(f"{p / s:.1f}×" for p, s in zip(pg, lite, strict=True))]
            )
    print_table(
        "add of N paths to 2 hosts, then status's counts and one claim",
        ["paths", "database", "add s", "counts s", "claim s"],
        rows,
    )


if __name__ == "__main__":
    main()
