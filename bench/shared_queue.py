"""Several runners on one queue: 2 and 4 `filehost-tui run` processes on one PostgreSQL database
against one runner on SQLite, all uploading the same N small files (`--anywhere`) to loopback sinks.

    python bench/shared_queue.py [--uploads 400] [--size 10000] [--url URL]

Each runner is a process with a home of its own (a "machine"), started together once the uploads
are queued, with `run --until-idle`. Reported per setup: total time (first claim to last
completion, from the rows' own timestamps), claims per second over that span, the runners' wall
time (start to exit, interpreter start included), how the uploads split between runners, and DB
round trips per upload: every statement, BEGIN and COMMIT a runner sent, counted in the runner
process by wrapping its database class's methods (`--child` mode below), over all its threads.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import psycopg
from homes import cli, cli_args, cli_env, make_home, start_measured
from sink import Sink
from table import print_table

HOSTS = ("sink0", "sink1", "sink2", "sink3")
# per runner: a host's max_connections holds across runners, so more runners do not mean more
# connections to a host, only more processes sharing them
SETTINGS = "max_connections = 4"
LIMITS = "[limits]\nmax_concurrent = 16\n"


def child(argv: list[str]) -> int:
    """A runner that counts its database round trips, then runs as `filehost-tui` would."""
    from filehost_tui.cli.main import main
    from filehost_tui.engine.database import QueueDatabase
    from filehost_tui.engine.pg_database import PgQueueDatabase

    counted = Counter()
    lock = threading.Lock()

    def counting(cls: type, name: str) -> None:
        original = getattr(cls, name)

        def wrapper(self, *args, **kwargs):
            with lock:
                counted[name] += 1
            return original(self, *args, **kwargs)

        setattr(cls, name, wrapper)

    for cls in (QueueDatabase, PgQueueDatabase):
        for name in ("execute_sql", "begin", "commit", "rollback"):
            counting(cls, name)
    code = main(argv)
    print(json.dumps({"round_trips": sum(counted.values()), **counted}), file=sys.stderr)
    return code


def runner_args(home: Path, url: str | None, name: str) -> list[str]:
    db = ["--db", url] if url else []
    args = cli_args(home, *db, "run", "--until-idle", "--name", name)
    return [args[0], str(Path(__file__).resolve()), "--child", *args[3:]]


def one_setup(root: Path, files: list[Path], sinks: dict[str, str], url: str | None, n: int):
    homes = [
        make_home(root / f"m{i}", sinks, dict.fromkeys(HOSTS, SETTINGS), extra=LIMITS)
        for i in range(n)
    ]
    db = ["--db", url] if url else []
    for n_host, host in enumerate(HOSTS):
        cli(homes[0], *db, "add", *map(str, files[n_host :: len(HOSTS)]), "--host", host,
            "--anywhere")  # fmt: skip
    started = time.monotonic()
    children = [
        start_measured(runner_args(h, url, f"r{i}"), cli_env()) for i, h in enumerate(homes)
    ]
    done = [c.wait() for c in children]
    wall = time.monotonic() - started
    for d in done:
        if d.returncode != 0:
            raise RuntimeError(f"runner exited {d.returncode}:\n{d.stdout}{d.stderr}")
    trips = sum(json.loads(d.stderr.strip().splitlines()[-1])["round_trips"] for d in done)
    return wall, trips, rows_of(homes[0], url)


def rows_of(home: Path, url: str | None) -> list[tuple]:
    sql = "SELECT status, ran_by, started_ts, finished_ts FROM file_host_uploads"
    if url:
        with psycopg.connect(url) as conn:
            return conn.execute(sql).fetchall()
    import sqlite3

    with sqlite3.connect(home / "filehost-tui.db") as conn:
        return conn.execute(sql).fetchall()


def schema_url(server: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return schema, f"{server}?options={quote(f'-csearch_path={schema}')}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=400)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, Sinks() as sinks:
        root = Path(tmp)
        files = []
        for n in range(args.uploads):
            files.append(root / "files" / f"f{n:05}.bin")
            files[-1].parent.mkdir(exist_ok=True)
            files[-1].write_bytes(n.to_bytes(4, "big") + os.urandom(args.size - 4))
        for label, runners, on_pg in (("SQLite", 1, False), ("PostgreSQL", 2, True),
                                      ("PostgreSQL", 4, True)):  # fmt: skip
            schema, url = schema_url(args.url) if on_pg else ("", None)
            try:
                wall, trips, got = one_setup(
                    root / f"{label}-{runners}", files, sinks, url, runners
                )
            finally:
                if on_pg:
                    with psycopg.connect(args.url, autocommit=True) as conn:
                        conn.execute(f"DROP SCHEMA {schema} CASCADE")
            assert all(r[0] == "completed" for r in got) and len(got) == args.uploads, (
                "not all done"
            )
            span = max(r[3] for r in got) - min(r[2] for r in got)
            split = "/".join(str(c) for _, c in sorted(Counter(r[1] for r in got).items()))
            rows.append([
                f"{label}, {runners} runner(s)", f"{span:.2f}", f"{args.uploads / span:.0f}",
                f"{wall:.2f}", split, f"{trips / args.uploads:.1f}",
            ])  # fmt: skip
    print_table(
        f"{args.uploads} uploads of {args.size} bytes to {len(HOSTS)} sinks, --anywhere",
        ["setup", "total s", "claims/s", "runners' wall s", "uploads per runner",
         "DB round trips/upload"],
        rows,
    )  # fmt: skip


class Sinks:
    """One sink per host, for the whole run."""

    def __enter__(self) -> dict[str, str]:
        self._sinks = [Sink().__enter__() for _ in HOSTS]
        return {h: s.base_url for h, s in zip(HOSTS, self._sinks, strict=True)}

    def __exit__(self, *exc: object) -> None:
        for s in self._sinks:
            s.__exit__(*exc)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        sys.exit(child(sys.argv[2:]))
    main()
