"""Many small files: the host's connections are kept and reused, each upload costs few commits,
and the long-lived connection threads keep seeing what other connections write."""

from __future__ import annotations

import os
import threading

import pytest
from engine_harness import make_home, start_engine, wait_until

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.database import open_database
from filehost_tui.engine.events import UploadCompleted
from filehost_tui.engine.models import FileHostUpload, UploadMetric
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.errors import UserError


def small_files(root, count: int) -> list:
    root.mkdir()
    paths = []
    for n in range(count):
        path = root / f"sample-{n:03d}.bin"
        path.write_bytes(os.urandom(2_000))
        paths.append(path)
    return paths


class Transactions:
    """The database trace hook: each thread's statements grouped by transaction; a write outside
    BEGIN ... COMMIT is a transaction (and a commit) of its own."""

    def __init__(self) -> None:
        self.committed: list[list[str]] = []
        self.counting = False
        self._open: dict[int, list[str]] = {}
        self._lock = threading.Lock()

    def __call__(self, sql: str) -> None:
        verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        me = threading.get_ident()
        with self._lock:
            if verb == "BEGIN":
                self._open[me] = []
            elif verb in ("COMMIT", "END") and me in self._open:
                statements = self._open.pop(me)
                if self.counting and statements:
                    self.committed.append(statements)
            elif verb == "ROLLBACK" and "SAVEPOINT" not in sql.upper():
                self._open.pop(me, None)
            elif verb in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
                if me in self._open:
                    self._open[me].append(sql)
                elif self.counting:
                    self.committed.append([sql])


def test_many_small_uploads_go_out_on_at_most_max_connections_kept_open(tmp_path):
    files = small_files(tmp_path / "files", 24)
    with FakeHost("0x0") as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx}, {"0x0": "max_connections = 3"})
        engine, rec = start_engine(paths)
        try:
            engine.queue.add(files, ["0x0"])
            engine.wake()
            wait_until(lambda: len(rec.of(UploadCompleted)) == len(files), 60, "every upload")
        finally:
            engine.stop()
        assert sorted(f.name for f in zx.received) == sorted(f.name for f in files)
        assert zx.connections_opened <= 3  # the fake keeps connections alive: one per thread
        # the connection threads close their handles when the engine stops
        assert zx.wait_for_connections_closed(20)


def test_a_small_upload_costs_its_claim_and_one_commit_for_its_link_and_metrics(tmp_path):
    files = small_files(tmp_path / "files", 12)
    trace = Transactions()
    with FakeHost("0x0") as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx}, {"0x0": "max_connections = 2"})
        engine, rec = start_engine(paths, trace=trace)
        try:
            engine.queue.add(files, ["0x0"])
            trace.counting = True
            engine.wake()
            wait_until(lambda: len(rec.of(UploadCompleted)) == len(files), 60, "every upload")
            trace.counting = False
        finally:
            engine.stop()
    assert len(trace.committed) <= 3 * len(files)  # claim, link + metrics, and the ticker's share
    completions = [
        tx for tx in trace.committed if any("upload_metrics" in s for s in tx)
    ]  # fmt: skip
    assert len(completions) == len(files)
    for tx in completions:  # the completed row and its metrics row commit together
        assert any(s.startswith("UPDATE") and "'completed'" in s for s in tx), tx
    assert UploadMetric.select().count() == FileHostUpload.select().count() == len(files)


def test_an_idle_connection_thread_sees_rows_another_connection_added(tmp_path):
    """A connection thread lives as long as the engine, and so does its SQLite connection: a read
    left open would pin it to the snapshot it saw before the new row, and the row would wait."""
    first, second = small_files(tmp_path / "files", 2)
    with FakeHost("0x0") as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx}, {"0x0": "max_connections = 1"})
        engine, rec = start_engine(paths)
        try:
            engine.queue.add([first], ["0x0"])
            engine.wake()
            wait_until(lambda: rec.of(UploadCompleted), 30, "the first upload")

            def add_elsewhere() -> None:  # its own thread, so its own SQLite connection
                try:
                    engine.queue.add([second], ["0x0"])
                finally:
                    engine.db.close()

            adder = threading.Thread(target=add_elsewhere)
            adder.start()
            adder.join()
            engine.wake()  # what the doorbell does after `filehost-tui add`
            wait_until(lambda: len(rec.of(UploadCompleted)) == 2, 30, "the second upload")
        finally:
            engine.stop()
        assert [f.name for f in zx.received] == [first.name, second.name]
        assert zx.connections_opened == 1  # the second went out on the first one's connection


def test_adding_a_thousand_paths_writes_rows_in_a_few_statements(tmp_path):
    files = small_files(tmp_path / "files", 1200)
    statements: list[str] = []
    db = open_database(tmp_path / "data" / "filehost-tui.db", trace=statements.append)
    try:
        store = QueueStore(db, host_limits={"alpha": None, "beta": None})
        statements.clear()
        ids = store.add(files, ["alpha", "beta"])
        inserts = [s for s in statements if s.startswith("INSERT")]
        assert len(inserts) <= 6  # items and uploads, 500 paths a statement
        rows = {r.id: (r.item.path, r.host_name) for r in store.uploads()}
        assert [rows[i] for i in ids] == [(str(f), h) for f in files for h in ("alpha", "beta")]
        # a path still queued is named, even past the first slice of 500
        again = [tmp_path / "files" / "new.bin", files[700]]
        again[0].write_bytes(b"x")
        with pytest.raises(
            UserError, match=rf"^{files[700]} is already queued for alpha as upload"
        ):
            store.add(again, ["alpha"])
        assert FileHostUpload.select().count() == 2400
    finally:
        db.close()
