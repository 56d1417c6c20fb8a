"""A full disk never loses a link nor sends a file twice, and every command says what is wrong.

The disk is a real tmpfs filled to the last byte (tests/small_disk.py); the host is a loopback fake
whose receive speed the test controls, so the disk fills while a transfer is still under way.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from pathlib import Path

from filehost_tui.config import load_config
from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.database import open_database
from filehost_tui.engine.engine import Engine
from filehost_tui.engine.events import DatabaseTrouble, UploadCompleted, UploadFailed
from filehost_tui.engine.models import FileHostUpload, UploadMetric
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.engine.states import Status
from filehost_tui.engine.zip_stream import build_archive
from filehost_tui.hosts.spec_loader import load_specs
from filehost_tui.runner import make_printer, run
from tests.cli_support import cli
from tests.engine_harness import make_home, start_engine, wait_until
from tests.small_disk import small_disk

SIZE = 600_000
CRAWL = 20_000  # bytes/s the fake host reads until the disk is full: the transfer cannot end first


def source(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "movie.bin"
    path.parent.mkdir()
    path.write_bytes(os.urandom(SIZE))
    return path


def journal_links(path: Path) -> list[str]:
    return [entry["url"] for entry in json.loads(path.read_bytes().rstrip(b"\0") or b"[]")]


def row(upload_id: int) -> FileHostUpload:
    return FileHostUpload.get_by_id(upload_id)


def fill_mid_transfer(fake: FakeHost, disk, paths) -> None:
    """Once the host is reading the body, take the last free byte, then let the body through."""
    assert fake.wait_for_attempts(1, 30)
    wait_until(lambda: fake.uploads_in_flight, 30, "the transfer to be under way")
    disk.fill(database=paths.database)
    fake.throttle_bps = 0


def test_a_link_that_meets_a_full_disk_waits_in_memory_and_is_recorded_once_space_is_back(
    tmp_path,
):
    with small_disk(tmp_path / "disk") as disk, FakeHost("0x0", throttle_bps=CRAWL) as fake:
        paths = make_home(disk.root / "home", {"0x0": fake})
        engine, events = start_engine(paths)
        try:
            (upload_id,) = engine.queue.add([source(tmp_path)], ["0x0"])
            engine.wake()
            fill_mid_transfer(fake, disk, paths)
            wait_until(lambda: len(engine.unsaved) == 1, 30, "the outcome kept in memory")
            assert row(upload_id).status == Status.UPLOADING
            assert not events.of(UploadCompleted)
            # the outcome is kept before its event is emitted (another thread): wait for it
            wait_until(lambda: events.of(DatabaseTrouble), 10, "the trouble event")
            trouble = events.of(DatabaseTrouble)
            assert "full" in trouble[-1].message and trouble[-1].unsaved == 1
            (link,) = journal_links(engine.unsaved.journal)
            assert link.startswith(fake.base_url)
            # the lease expires meanwhile; taking the row back would send the file again
            engine.queue.lease_seconds = 0.0
            engine.queue.recover(keep=engine.unsaved.leases())  # what the ticker does
            assert row(upload_id).status == Status.UPLOADING

            disk.free()
            # the event comes once every write of the outcome is made
            wait_until(lambda: events.of(UploadCompleted), 30, "the recorded link")
            assert row(upload_id).status == Status.COMPLETED
            assert row(upload_id).download_url == link
            assert UploadMetric.get(UploadMetric.upload_id == upload_id).status == "success"
            wait_until(lambda: events.of(DatabaseTrouble)[-1].message is None, 10, "all clear")
            assert journal_links(engine.unsaved.journal) == []
        finally:
            engine.stop()
        assert len(fake.received) == 1


def test_until_idle_gives_up_on_a_full_disk_and_the_next_run_records_the_link(tmp_path):
    with small_disk(tmp_path / "disk") as disk, FakeHost("0x0", throttle_bps=CRAWL) as fake:
        paths = make_home(disk.root / "home", {"0x0": fake})
        db = open_database(paths.database)
        out = io.StringIO()
        printer = make_printer(out, as_json=False)
        engine = Engine(
            paths, load_config(paths.config_file), load_specs(paths.user_hosts_dir), db,
            sink=printer,
        )  # fmt: skip
        (upload_id,) = engine.queue.add([source(tmp_path)], ["0x0"])
        filler = threading.Thread(target=fill_mid_transfer, args=(fake, disk, paths))
        filler.start()
        try:
            code = run(engine, printer, until_idle=True, storage_patience=1.0)
        finally:
            filler.join()
            db.close()
        lines = out.getvalue().splitlines()
        assert code == 1
        assert "cannot write the database" in "\n".join(lines)
        assert "stopped: cannot write the database" in lines[-1]
        assert "next run records them" in lines[-1]
        assert len(fake.received) == 1
        (link,) = journal_links(paths.data_dir / "unsaved-links.json")

        disk.free()
        engine, _ = start_engine(paths)
        try:
            assert row(upload_id).status == Status.COMPLETED
            assert row(upload_id).download_url == link
        finally:
            engine.stop()
        assert len(fake.received) == 1, "the file was sent a second time"


def test_add_on_a_full_disk_says_so_and_leaves_the_queue_as_it_was(tmp_path):
    src = source(tmp_path)
    other = src.with_name("other.bin")
    other.write_bytes(b"y" * 1000)
    with small_disk(tmp_path / "disk") as disk:
        home = disk.root / "home"
        assert cli(home, "add", str(src), "--host", "catbox").returncode == 0
        disk.fill(database=home / "filehost-tui.db")
        result = cli(home, "add", str(other), "--host", "catbox")
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1
        assert "disk is full" in result.stderr and "rollback" not in result.stderr
        disk.free()
        status = cli(home, "status", "--json")
        assert status.returncode == 0 and status.stdout.count('"id"') == 1


def test_run_on_a_full_disk_is_a_one_line_error(tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        home = disk.root / "home"
        assert cli(home, "status").returncode == 0
        disk.fill(database=home / "filehost-tui.db")
        result = cli(home, "run", "--until-idle")
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "space" in result.stderr or "full" in result.stderr


def test_a_folder_larger_than_the_free_cache_space_still_uploads(tmp_path):
    folder = tmp_path / "gallery"
    folder.mkdir()
    (folder / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    expected = build_archive(folder, tmp_path / "expected.zip").read_bytes()
    with FakeHost("0x0") as fake:
        paths = make_home(tmp_path / "home", {"0x0": fake}, {"0x0": "max_retries = 2"})
        with small_disk(paths.cache_dir, size="1m"):  # a third of the folder fits
            engine, events = start_engine(paths)
            try:
                (upload_id,) = engine.queue.add([folder], ["0x0"])
                engine.wake()
                wait_until(lambda: row(upload_id).status == Status.COMPLETED, 30, "the upload")
            finally:
                engine.stop()
    assert events.of(UploadFailed) == []
    assert [f.md5 for f in fake.received] == [hashlib.md5(expected).hexdigest()]


def folder_item(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "a.txt").write_text(name)
    return folder


def test_archives_no_open_upload_needs_are_removed_at_start(tmp_path):
    with FakeHost("0x0") as fake:
        paths = make_home(tmp_path / "home", {"0x0": fake})
        db = open_database(paths.database)
        queue = QueueStore(db, host_limits={"0x0": None})
        cancelled, paused = (queue.add([folder_item(tmp_path, n)], ["0x0"])[0] for n in "cp")
        queue.cancel(cancelled)
        queue.pause(paused)
        paths.archives_dir.mkdir(parents=True)
        cache = {
            name: paths.archives_dir / name
            for name in (
                f"{row(cancelled).item_id}-c-aaaa.zip",
                f"{row(cancelled).item_id}-c-aaaa.zip.part",
                f"{row(paused).item_id}-p-bbbb.zip",
                f"{row(paused).item_id}-p-cccc.zip.part",  # a build killed mid-way
                "notes.txt",  # not ours: left alone
            )
        }
        for path in cache.values():
            path.write_bytes(b"zip")
        db.close()
        engine, _ = start_engine(paths)
        engine.stop()
    assert sorted(p.name for p in paths.archives_dir.iterdir()) == sorted(
        [f"{row(paused).item_id}-p-bbbb.zip", "notes.txt"]
    )


def test_cancel_removes_the_archive_no_host_needs_any_more(tmp_path):
    folder = folder_item(tmp_path, "gallery")
    home = tmp_path / "home"
    assert cli(home, "add", str(folder), "--host", "catbox").returncode == 0
    archives = home / "cache" / "archives"
    archives.mkdir(parents=True)
    built, part = archives / "1-gallery-abcd.zip", archives / "1-gallery-abcd.zip.part"
    built.write_bytes(b"zip")
    part.write_bytes(b"zi")
    result = cli(home, "cancel", "--all")
    assert result.returncode == 0, result.stderr
    assert list(archives.iterdir()) == []
