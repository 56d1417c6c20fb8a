"""Shared pieces for the TUI tests (imported by test_tui_*.py; holds no tests itself).

Fixed data in a real SQLite file under tmp_path, a fixed clock, and sessions built the way
launch.py builds them, minus the engine unless a test asks for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from pathlib import Path

from textual.worker import WorkerCancelled, WorkerFailed

from filehost_tui.config import Config
from filehost_tui.context import Context
from filehost_tui.engine.control import Control
from filehost_tui.engine.database import open_database
from filehost_tui.engine.metrics_store import MetricsStore
from filehost_tui.engine.models import FileHostUpload, Item
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.engine.runner_lock import runner_pid
from filehost_tui.errors import ErrorKind
from filehost_tui.paths import AppPaths
from filehost_tui.tui.launch import build_session
from filehost_tui.tui.session import TuiSession
from filehost_tui.tui.widgets.uploads_table import UploadsTable

NOW = 1_700_000_000.0
HOSTS = ("catbox", "gofile", "pixeldrain")
MiB = 1024 * 1024


class FixedClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_session(
    tmp_path: Path,
    clock: FixedClock | None = None,
    *,
    hosts: tuple[str, ...] = HOSTS,
    **overrides,
) -> TuiSession:
    clock = clock or FixedClock()
    paths = AppPaths.resolve(tmp_path / "home")
    paths.ensure()
    db = open_database(paths.database)
    queue = QueueStore(db, host_limits={h: None for h in hosts}, clock=clock, jitter=lambda: 1.0)
    metrics = MetricsStore(db, clock=clock)
    values = dict(
        paths=paths,
        config=Config(),
        db=db,
        queue=queue,
        metrics=metrics,
        control=Control(queue, paths, keep_archives=False),
        hosts=hosts,
        clock=clock,
        cursor_blink=False,
        poll_interval=0,
    )
    values.update(overrides)
    return TuiSession(**values)


def attached_session(paths: AppPaths, runner) -> tuple[Context, TuiSession]:
    """The session launch.py builds once `runner` (a `run` process) holds the lock: attached.
    The caller closes the context."""
    deadline = time.monotonic() + 30
    while runner_pid(paths) != runner.pid:
        if time.monotonic() > deadline or runner.poll() is not None:
            raise AssertionError(f"the runner never held the lock (exit {runner.poll()})")
        time.sleep(0.02)
    ctx = Context(paths)
    session = build_session(ctx)
    session.cursor_blink, session.poll_interval = False, 0.2
    return ctx, session


def make_file(folder: Path, name: str, size: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with path.open("wb") as fh:
        fh.truncate(size)  # sparse: big sizes cost no disk
    return path


def seed_mid_upload(session: TuiSession, files: Path) -> dict[str, int]:
    """One upload in each interesting state, with fixed paths and times for stable snapshots."""
    q, m, now = session.queue, session.metrics, session.clock()
    ids: dict[str, int] = {}

    def add(name: str, size: int, hosts: tuple[str, ...]) -> list[int]:
        return q.add([make_file(files, name, size)], list(hosts))

    ids["done"], ids["uploading"] = add("holiday-2024.zip", 700 * MiB, ("catbox", "gofile"))
    ids["failed"] = add("concert.mkv", 3 * 1024 * MiB, ("pixeldrain",))[0]
    ids["retrying"] = add("slides.pdf", 12 * MiB, ("gofile",))[0]
    ids["paused"] = add("backup.tar", 90 * MiB, ("catbox",))[0]
    ids["pending"] = add("notes.txt", 4096, ("pixeldrain",))[0]
    ids["cancelled"] = add("old-draft.docx", 250_000, ("gofile",))[0]

    q.claim("catbox", "test")
    q.complete(ids["done"], "https://files.catbox.example/abc123.zip", "abc123")
    uploading = q.claim("gofile", "test")
    q.progress(ids["uploading"], 301 * MiB, uploading.lease)
    q.claim("pixeldrain", "test")
    q.fail(
        ids["failed"],
        ErrorKind.TOO_LARGE,
        "file is larger than 2 GiB",
        retryable=False,
        max_retries=5,
        base_delay=2.0,
    )
    q.claim("gofile", "test")
    q.fail(
        ids["retrying"],
        ErrorKind.SERVER,
        "HTTP 502 from upload server",
        retryable=True,
        max_retries=5,
        base_delay=20.0,
    )
    q.pause(ids["paused"])
    q.cancel(ids["cancelled"])
    for item in Item.select():
        Item.update(path=f"/srv/media/{item.name}").where(Item.id == item.id).execute()
    FileHostUpload.update(zip_path="/var/cache/filehost-tui/archives/1.zip").where(
        FileHostUpload.id == ids["done"]
    ).execute()

    m.record_upload_success("catbox", 1, ids["done"], 350.0, 700 * MiB, 2 * MiB, 0)
    m.record_upload_failure("pixeldrain", 2, ids["failed"], "file is larger than 2 GiB", 0, False)
    m.start_session()
    for i in range(120):  # ten minutes of 5-second samples: a wave, so the sparkline has shape
        ts = now - 600 + 5 * i
        wave = 1.5 * MiB + MiB * math.sin(i / 8)
        m.record_bandwidth_samples({"catbox": wave, "gofile": 0.5 * MiB}, ts)
    return ids


def add_many(session: TuiSession, files: Path, count: int, host: str = "gofile") -> None:
    """`count` queued uploads, inserted in bulk (the add path checks files one by one)."""
    path = make_file(files, "bulk.bin", 1000)
    now = session.clock()
    with session.db.atomic():
        items = [
            {
                "path": f"{path}.{i}",
                "name": f"file-{i:05d}.bin",
                "kind": "file",
                "total_size": 1000 + i,
                "file_count": 1,
                "fingerprint": "x",
                "created_ts": now,
            }
            for i in range(count)
        ]
        for start in range(0, count, 500):
            Item.insert_many(items[start : start + 500]).execute()
        rows = [
            {"item": item_id, "host_name": host, "total_bytes": 1000 + n, "created_ts": now}
            for n, (item_id,) in enumerate(Item.select(Item.id).order_by(Item.id).tuples())
        ]
        for start in range(0, len(rows), 500):
            FileHostUpload.insert_many(rows[start : start + 500]).execute()


def _table_loading(app) -> bool:
    tables = app.query(UploadsTable)
    return any(t.adding_rows for t in tables)


async def settle(pilot, rounds: int = 50) -> None:
    """Let reads and actions finish: await the app's workers (not the engine's, which run for the
    whole session) and the messages they post, instead of sleeping."""
    app = pilot.app
    for _ in range(rounds):
        running = [w for w in app.workers if w.group != "engine" and w.is_running]
        if running:  # an empty list would mean "every worker", the engine's included
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await app.workers.wait_for_complete(running)
        await pilot.pause()
        busy = [w for w in app.workers if w.group != "engine" and w.is_running]
        if not busy and not app.reading and not _table_loading(app):
            return
    raise AssertionError("the app did not settle")


async def eventually(pilot, predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Wait for something another thread or process does, yielding to the app meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await pilot.pause(0.05)
