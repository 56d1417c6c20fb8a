"""Many threads and a killed process against one real SQLite file (and the racing claimers
against a PostgreSQL schema too)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from filehost_tui.engine.database import open_database
from filehost_tui.engine.models import FileHostUpload, Item
from filehost_tui.engine.queue_reads import QueueReads
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.engine.states import IllegalTransition, Status
from filehost_tui.errors import ErrorKind

pytestmark = pytest.mark.both_databases


def fill(path: Path, count: int) -> None:
    db = open_database(path)
    with db.atomic():
        item = Item.create(
            path="/x", name="x", kind="file", total_size=1, file_count=1, fingerprint="f"
        )
        FileHostUpload.insert_many(
            [{"item": item.id, "host_name": f"h{i}", "total_bytes": 100} for i in range(count)]
        ).execute()
    db.close()


def test_eight_claimers_and_a_reader_never_share_a_row_or_see_locked(tmp_path):
    path = tmp_path / "q.db"
    rows = 2000
    fill(path, rows)
    db = open_database(path)
    hosts = {f"h{i}": None for i in range(rows)}
    store = QueueStore(db, host_limits=hosts)
    claimed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    done = threading.Event()
    next_host = iter(range(rows))

    def worker(name: str) -> None:
        try:
            while True:
                with lock:
                    i = next(next_host, None)
                if i is None:
                    return
                for host in (f"h{i}",):
                    up = store.claim(host, name)
                    assert up is not None
                    store.progress(up.id, 50, up.lease)
                    store.complete(up.id, f"http://127.0.0.1/{up.id}", None)
                    with lock:
                        claimed.append(up.id)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    reads = 0

    def reader() -> None:
        # Like a screen refreshing: it reads between writes all the time, but pauses. A reader
        # spinning in pure Python would instead keep the GIL from each writer after every SQLite
        # call (5 ms per switch), which measures the interpreter, not the queue.
        nonlocal reads
        try:
            while not done.is_set():
                FileHostUpload.select().where(FileHostUpload.status == Status.UPLOADING).count()
                reads += 1
                time.sleep(0.001)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(8)]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    watcher.join()
    assert errors == []
    assert reads > 10, "the reader never ran between the writes"
    assert len(claimed) == rows == len(set(claimed))
    assert FileHostUpload.select().where(FileHostUpload.status == Status.COMPLETED).count() == rows
    db.close()


def test_a_write_outside_a_transaction_waits_in_line_not_in_sqlites_busy_handler(tmp_path):
    """progress() is a lone UPDATE. If it met a long transaction of another thread in SQLite's
    busy handler, it could give up with "database is locked"; it must queue like a transaction."""
    path = tmp_path / "q.db"
    fill(path, 2)
    db = open_database(path)
    store = QueueStore(db, host_limits={"h0": None, "h1": None})
    up = store.claim("h0", "w")
    in_transaction = threading.Event()
    errors: list[BaseException] = []

    def long_writer() -> None:
        with db.atomic():
            store.claim("h1", "slow")
            in_transaction.set()
            time.sleep(0.6)

    def progress() -> None:
        try:
            db.execute_sql("PRAGMA busy_timeout = 50")  # this thread's connection gives up fast
            in_transaction.wait()
            store.progress(up.id, 42, up.lease)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=long_writer), threading.Thread(target=progress)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert FileHostUpload.get_by_id(up.id).uploaded_bytes == 42
    db.close()


def test_eight_threads_racing_for_the_same_host_get_distinct_rows(db):
    """On PostgreSQL each thread has its own connection and claims skip the rows others lock."""
    with db.atomic():
        for n in range(400):
            item = Item.create(
                path=f"/x{n}", name="x", kind="file", total_size=1, file_count=1, fingerprint="f"
            )
            FileHostUpload.create(item=item, host_name="same", total_bytes=1)
    store = QueueStore(db, host_limits={"same": None})
    got: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            while (up := store.claim("same", threading.current_thread().name)) is not None:
                got.append(up.id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(got) == list(range(1, 401))


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from filehost_tui.engine.database import open_database
    from filehost_tui.engine.queue_store import QueueStore
    db = open_database(Path(sys.argv[1]))
    store = QueueStore(db, host_limits={f"h{i}": None for i in range(500)}, lease_seconds=0.5)
    print("ready", flush=True)
    n = 0
    while True:
        for i in range(500):
            up = store.claim(f"h{i}", "doomed")
            if up:
                store.progress(up.id, n, up.lease)
                n += 1
    """
)


def test_sigkill_mid_writes_leaves_a_consistent_database_and_recover_frees_leases(tmp_path):
    path = tmp_path / "q.db"
    fill(path, 500)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        probe = open_database(path)
        leased = FileHostUpload.select().where(FileHostUpload.status == Status.UPLOADING).count()
        probe.close()
        if leased >= 50:
            break
    assert proc.poll() is None, "the writer died on its own before the kill"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    db = open_database(path)
    assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    leased = [
        u.id for u in FileHostUpload.select().where(FileHostUpload.status == Status.UPLOADING)
    ]
    assert leased, "the writer was killed before it leased anything"
    time.sleep(0.6)  # the killed writer's leases were 0.5 s long
    store = QueueStore(db, host_limits={})
    assert sorted(store.recover()) == sorted(leased)
    assert FileHostUpload.select().where(FileHostUpload.status == Status.UPLOADING).count() == 0
    assert FileHostUpload.select().count() == 500
    db.close()


def test_a_reader_following_change_numbers_misses_no_commit_of_concurrent_writers(db):
    """Workers claim and finish, a user pauses and resumes, while a reader follows changed_since
    like the TUI: what it saw last of each row is the row's final state, and the per-host counts
    equal the rows. On PostgreSQL writers commit side by side: a change number drawn before a
    lower one became visible would be skipped by the reader for good."""
    hosts = [f"h{n}" for n in range(4)]
    with db.atomic():
        item = Item.create(
            path="/x", name="x", kind="file", total_size=1, file_count=1, fingerprint="f"
        )
        FileHostUpload.insert_many(
            [{"item": item.id, "host_name": h, "volume": n} for h in hosts for n in range(60)]
        ).execute()
    store = QueueStore(db, host_limits=dict.fromkeys(hosts))
    reads = QueueReads(db)
    errors: list[BaseException] = []
    seen: dict[int, str] = {}
    workers_done = threading.Event()
    seq = reads.last_change()

    def guarded(body):
        def run() -> None:
            try:
                body()
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        return threading.Thread(target=run)

    def worker(host: str) -> None:
        while (up := store.claim(host, host)) is not None:
            store.progress(up.id, 1, up.lease)
            try:
                if up.id % 3:
                    store.complete(up.id, f"http://127.0.0.1/{up.id}", None, lease=up.lease)
                else:
                    store.fail(up.id, ErrorKind.SERVER, "502", retryable=False, max_retries=0,
                               base_delay=0, lease=up.lease)  # fmt: skip
            except IllegalTransition:  # paused and resumed meanwhile: the new attempt finishes it
                pass

    def user() -> None:
        n = 0
        while not workers_done.is_set():
            n += 1
            try:
                store.pause(n % 240 + 1)
                store.resume(n % 240 + 1)
            except IllegalTransition:
                pass  # already finished

    def reader() -> None:
        nonlocal seq
        while not workers_done.is_set():
            rows, seq = reads.changed_since(seq)
            seen.update((r.id, r.status) for r in rows)

    threads = [guarded(lambda h=h: worker(h)) for h in hosts]
    others = [guarded(user), guarded(reader)]
    for t in threads + others:
        t.start()
    for t in threads:
        t.join()
    workers_done.set()
    for t in others:
        t.join()
    assert errors == []
    # what the user left pending or paused, a last claim finishes
    for host in hosts:
        while (up := store.claim(host, "last")) is not None:
            store.complete(up.id, "http://127.0.0.1/last", None, lease=up.lease)
    for row in FileHostUpload.select().where(FileHostUpload.status == Status.PAUSED):
        store.resume(row.id)
        up = store.claim(row.host_name, "last")
        store.complete(up.id, "http://127.0.0.1/last", None, lease=up.lease)
    rows, _ = reads.changed_since(seq)
    seen.update((r.id, r.status) for r in rows)
    truth = {r.id: r.status for r in FileHostUpload.select()}
    assert seen == truth
    assert set(truth.values()) <= {"completed", "failed"}
    assert reads.counts() == dict(Counter((r.host_name, r.status) for r in FileHostUpload.select()))
