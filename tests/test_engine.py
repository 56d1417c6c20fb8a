"""The engine end to end: real workers, real fake hosts on loopback, real SQLite."""

from __future__ import annotations

import hashlib
import os
import time
import zipfile
from pathlib import Path

import pytest

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.doorbell import ring
from filehost_tui.engine.events import (
    BandwidthUpdated,
    UploadCompleted,
    UploadFailed,
    UploadProgress,
    UploadStarted,
)
from filehost_tui.engine.models import FileHostUpload, UploadMetric
from filehost_tui.engine.zip_stream import build_archive
from filehost_tui.errors import ErrorKind, UploadError
from tests.cli_support import cli
from tests.engine_harness import all_finished, make_home, start_engine, upload_all, wait_until


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    out = []
    for n in range(3):
        path = tmp_path / "src" / f"file-{n}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(os.urandom(200_000 + n))
        out.append(path)
    return out


def test_three_items_three_hosts_with_one_faulty_host(tmp_path, files, monkeypatch):
    monkeypatch.setenv("FILEHOST_TUI_PIXELDRAIN_API_KEY", "pd-key-0001")
    with (
        FakeHost("catbox") as cat,
        FakeHost("0x0") as zx,
        FakeHost("pixeldrain", credentials={"api_key": "pd-key-0001"}) as px,
    ):
        px.inject("status", status=503, times=2)
        px.inject("stall")
        px.inject("early_413")
        paths = make_home(
            tmp_path / "home",
            {"catbox": cat, "0x0": zx, "pixeldrain": px},
            {"pixeldrain": "max_connections = 1\nlow_speed_limit = 1000\nlow_speed_time = 1"},
        )
        engine, rec = start_engine(paths)
        try:
            ids = engine.queue.add(files, ["catbox", "0x0", "pixeldrain"])
            engine.wake()
            wait_until(all_finished, 60, "every upload to finish")
        finally:
            engine.stop()

        rows = {r.id: r for r in FileHostUpload.select()}
        assert sorted(rows) == sorted(ids)
        by_host = {
            h: [r for r in rows.values() if r.host_name == h]
            for h in ("catbox", "0x0", "pixeldrain")
        }
        for host in ("catbox", "0x0"):
            assert {r.status for r in by_host[host]} == {"completed"}
            assert all(r.retry_count == 0 and r.download_url for r in by_host[host])
        faulty = by_host["pixeldrain"]
        assert sorted(r.status for r in faulty) == ["completed", "completed", "failed"]
        (failed,) = [r for r in faulty if r.status == "failed"]
        assert failed.error_kind == "too_large" and failed.finished_ts
        assert sum(r.retry_count for r in faulty) == 3  # two 503s and one stall, each retried once
        assert all(
            r.download_url.startswith(px.base_url) for r in faulty if r.status == "completed"
        )

        metrics = {m.upload_id: m for m in UploadMetric.select()}
        assert sorted(metrics) == sorted(ids)
        assert metrics[failed.id].status == "failed"
        assert sum(m.status == "success" for m in metrics.values()) == 8
        assert rec.overlaps == []
        assert {f.md5 for f in cat.received} == {md5(p) for p in files}
        assert len(rec.of(UploadCompleted)) == 8
        will_retry = [e for e in rec.of(UploadFailed) if e.will_retry]
        assert len(will_retry) == 3
        assert engine.counters == {"completed": 8, "failed": 1}


def test_progress_is_coalesced_and_written_about_once_a_second(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024))
    with FakeHost("0x0", throttle_bps=1024 * 1024) as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx})
        writes: list[str] = []
        engine, rec = start_engine(paths, trace=writes.append)
        try:
            (upload_id,) = engine.queue.add([big], ["0x0"])
            engine.wake()
            wait_until(all_finished, 60, "the throttled upload")
        finally:
            engine.stop()
        progress = [e for e in rec.of(UploadProgress) if e.upload_id == upload_id]
        # about 3 s of transfer at a few events per second, not one per curl callback
        assert 3 <= len(progress) <= 40
        assert max(e.uploaded for e in progress) > 0
        assert any(
            isinstance(e, BandwidthUpdated) and e.host is None and e.bytes_per_s > 0
            for e in rec.events
        )
        progress_writes = [w for w in writes if w.startswith("UPDATE") and "uploaded_bytes" in w]
        assert 1 <= len(progress_writes) <= 10
        assert FileHostUpload.get_by_id(upload_id).status == "completed"


def test_folder_is_streamed_as_the_same_zip_to_every_host_and_never_cached(tmp_path):
    folder = tmp_path / "Gällery ✓"
    (folder / "sub dir").mkdir(parents=True)
    (folder / "a b.jpg").write_bytes(os.urandom(50_000))
    (folder / "sub dir" / "naïve 'quote'.txt").write_bytes(b"hello")
    outside = tmp_path / "secret.txt"
    outside.write_text("outside")
    (folder / "link-out").symlink_to(outside)
    with FakeHost("catbox") as cat, FakeHost("0x0") as zx:
        paths = make_home(tmp_path / "home", {"catbox": cat, "0x0": zx})
        engine, rec = start_engine(paths)
        try:
            engine.queue.add([folder], ["catbox", "0x0"])
            engine.wake()
            wait_until(all_finished, 60, "both uploads")
        finally:
            engine.stop()
        expected = tmp_path / "expected.zip"
        build_archive(folder, expected)
        with zipfile.ZipFile(expected) as zf:
            assert sorted(zf.namelist()) == ["a b.jpg", "sub dir/naïve 'quote'.txt"]
        assert [f.md5 for f in cat.received] == [md5(expected)]
        assert [f.md5 for f in zx.received] == [md5(expected)]
        assert cat.received[0].name == "Gällery ✓.zip"
        assert list(paths.archives_dir.glob("*.zip")) == []


def test_folder_changed_after_queueing_uploads_the_new_content(tmp_path):
    folder = tmp_path / "gallery"
    folder.mkdir()
    (folder / "one.jpg").write_bytes(b"1" * 1000)
    with FakeHost("0x0") as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx})
        engine, _ = start_engine(paths)
        engine.stop()  # queue with no runner, change the folder, then run
        engine.queue.add([folder], ["0x0"])
        (folder / "two.jpg").write_bytes(b"2" * 1000)
        engine, _ = start_engine(paths)
        try:
            engine.wake()
            wait_until(all_finished, 60, "the upload")
        finally:
            engine.stop()
        expected = build_archive(folder, tmp_path / "expected.zip")
        with zipfile.ZipFile(expected) as zf:
            assert sorted(zf.namelist()) == ["one.jpg", "two.jpg"]
        assert zx.received[0].md5 == md5(expected)
        assert FileHostUpload.get().total_bytes == expected.stat().st_size


def test_a_vanished_file_fails_only_its_own_upload(tmp_path, files):
    with FakeHost("0x0") as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx})
        engine, _ = start_engine(paths)
        engine.stop()
        engine.queue.add(files, ["0x0"])
        files[1].unlink()
        engine, _ = start_engine(paths)
        try:
            engine.wake()
            wait_until(all_finished, 60, "all uploads")
        finally:
            engine.stop()
        rows = list(FileHostUpload.select().order_by(FileHostUpload.id))
        assert [r.status for r in rows] == ["completed", "failed", "completed"]
        assert rows[1].error_kind == "not_found"
        assert (
            str(files[1]) in rows[1].error_message
            and "restore it or cancel" in rows[1].error_message
        )


def test_missing_credentials_fail_with_what_to_do(tmp_path, files, monkeypatch):
    monkeypatch.delenv("FILEHOST_TUI_PIXELDRAIN_API_KEY", raising=False)
    with FakeHost("pixeldrain") as px:
        paths = make_home(tmp_path / "home", {"pixeldrain": px})
        engine, _ = start_engine(paths)
        try:
            (upload_id,) = engine.queue.add(files[:1], ["pixeldrain"])
            engine.wake()
            wait_until(all_finished, 30, "the upload")
        finally:
            engine.stop()
        row = FileHostUpload.get_by_id(upload_id)
        assert (row.status, row.error_kind) == ("failed", "auth")
        assert "filehost-tui login pixeldrain" in row.error_message
        assert "FILEHOST_TUI_PIXELDRAIN_API_KEY" in row.error_message
        assert px.upload_attempts == 0


def test_a_queued_item_reaches_the_wire_when_the_doorbell_rings(tmp_path, files):
    with FakeHost("0x0") as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx})
        engine, rec = start_engine(paths)
        try:
            # every worker is asleep on an empty queue, for up to IDLE_WAKE_S (30 s)
            t0 = time.monotonic()
            engine.queue.add(files[:1], ["0x0"])
            ring(paths)  # what `filehost-tui add` does after writing the rows
            wait_until(lambda: rec.of(UploadStarted), 10, "the upload to start")
            assert time.monotonic() - t0 < 5.0  # far below the 30 s a missed ring would cost
            wait_until(all_finished, 30, "the upload")
        finally:
            engine.stop()
        assert zx.received[0].name == files[0].name


def test_pause_then_resume_at_once_never_sends_the_file_twice_at_the_same_time(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3_000_000))
    with FakeHost("0x0") as zx:
        cap = "max_upload_speed = 1000000"
        paths = make_home(tmp_path / "home", {"0x0": zx}, {"0x0": cap})
        engine, rec = start_engine(paths)
        try:
            (upload_id,) = engine.queue.add([big], ["0x0"])
            engine.wake()
            wait_until(lambda: any(a.uploaded > 0 for a in engine.active()), 20, "the transfer")
            engine.control.pause(upload_id)
            engine.control.resume(upload_id)  # before the ticker saw the pause
            wait_until(all_finished, 60, "the upload")
        finally:
            engine.stop()
        assert FileHostUpload.get_by_id(upload_id).status == "completed"
        assert zx.upload_attempts == 2  # the aborted attempt and the resumed one
        assert zx.most_uploads_at_once == 1  # never both at once
        assert [f.name for f in zx.received] == ["big.bin"]
        assert len(rec.of(UploadCompleted)) == 1


def test_a_pause_after_every_byte_was_sent_still_collects_the_link(tmp_path, monkeypatch):
    """Rapidgator takes the file, then says "processing" on its polls: pausing then would throw
    away an upload that is already on the host. It completes instead; a resume is not needed."""
    data = tmp_path / "video.bin"
    a_size = 500_000
    data.write_bytes(os.urandom(a_size))
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_USERNAME", "user@example.invalid")
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_PASSWORD", "pw-12345678")
    creds = {"username": "user@example.invalid", "password": "pw-12345678"}
    with FakeHost("rapidgator", credentials=creds) as rg:
        rg.inject("processing", times=3)  # three polls, a second apart
        paths = make_home(tmp_path / "home", {"rapidgator": rg})
        engine, rec = start_engine(paths)
        try:
            (upload_id,) = engine.queue.add([data], ["rapidgator"])
            engine.wake()
            wait_until(lambda: rg.received, 20, "the host to have the file")
            wait_until(
                lambda: [(a.phase, a.uploaded) for a in engine.active()] == [("uploading", a_size)],
                5,
                "the client to count every byte sent",
            )
            engine.control.pause(upload_id)
            wait_until(lambda: rec.of(UploadCompleted), 30, "the link")
        finally:
            engine.stop()
        row = FileHostUpload.get_by_id(upload_id)
        assert row.status == "completed"
        assert row.download_url == rec.of(UploadCompleted)[0].url
        assert rg.upload_attempts == 1


def test_a_rate_limited_host_gets_no_new_upload_before_its_wait_is_over(tmp_path, files):
    with FakeHost("0x0") as zx:
        zx.inject("status", status=429, retry_after=2)
        paths = make_home(tmp_path / "home", {"0x0": zx}, {"0x0": "max_connections = 1"})
        engine, rec = start_engine(paths)
        try:
            engine.queue.add(files, ["0x0"])
            engine.wake()
            wait_until(lambda: rec.of(UploadFailed), 20, "the 429")
            t_429 = time.monotonic()
            wait_until(lambda: len(rec.of(UploadStarted)) >= 2, 20, "the next upload")
            waited = time.monotonic() - t_429
            wait_until(all_finished, 60, "all uploads")
        finally:
            engine.stop()
        assert waited >= 1.0  # the host asked for 2 s; no other row was claimed meanwhile
        assert {r.status for r in FileHostUpload.select()} == {"completed"}
        assert sum(r.retry_count for r in FileHostUpload.select()) == 1


def test_refused_credentials_are_not_tried_again_for_every_queued_item(
    tmp_path, files, monkeypatch
):
    monkeypatch.setenv("FILEHOST_TUI_PIXELDRAIN_API_KEY", "wrong-key-123")
    with FakeHost("pixeldrain", credentials={"api_key": "right-key-456"}) as px:
        paths = make_home(
            tmp_path / "home", {"pixeldrain": px}, {"pixeldrain": "max_connections = 1"}
        )
        upload_all(paths, files, ["pixeldrain"])
        rows = list(FileHostUpload.select())
        assert [(r.status, r.error_kind) for r in rows] == [("failed", "auth")] * 3
        assert px.upload_attempts == 1  # the host saw the bad key once, not once per item
        assert all(r.error_message.count("not tried again so soon") == 1 for r in rows[1:])


def test_a_refused_login_is_tried_once_by_all_connections_of_a_host(tmp_path, files, monkeypatch):
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_USERNAME", "user@example.invalid")
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_PASSWORD", "a-typo")
    creds = {"username": "user@example.invalid", "password": "pw-12345678"}
    with FakeHost("rapidgator", credentials=creds) as rg:
        paths = make_home(
            tmp_path / "home", {"rapidgator": rg}, {"rapidgator": "max_connections = 3"}
        )
        upload_all(paths, files, ["rapidgator"])
        assert [r.error_kind for r in FileHostUpload.select()] == ["auth"] * len(files)
        assert rg.login_count == 1  # not once per connection waiting on the login


def test_a_late_refusal_of_replaced_credentials_does_not_silence_the_new_ones(tmp_path):
    """An attempt that started with the old key is refused after a `login` stored a new one: that
    refusal is about the old key, and must not hold back uploads with the new one for a minute."""
    with FakeHost("pixeldrain", credentials={"api_key": "right-key-456"}) as px:
        paths = make_home(tmp_path / "home", {"pixeldrain": px})
        creds_file = paths.credentials_file
        creds_file.write_text('[pixeldrain]\napi_key = "wrong-key-123"\n')
        creds_file.chmod(0o600)
        engine, _ = start_engine(paths)
        try:
            runtime = engine.hosts["pixeldrain"]
            old = runtime.client()  # two attempts start with the wrong key
            runtime.note_failure(UploadError(ErrorKind.AUTH, "key refused"), None, old)
            with pytest.raises(UploadError, match="not tried again so soon"):
                runtime.check_recent_auth_failure()
            creds_file.write_text('[pixeldrain]\napi_key = "right-key-456"\n')  # `login`
            new = runtime.client()
            assert new is not old
            runtime.note_failure(UploadError(ErrorKind.AUTH, "key refused"), None, old)  # late
            runtime.check_recent_auth_failure()  # the new key is not held back
            assert runtime.client() is new  # unchanged credentials keep their client
        finally:
            engine.stop()


def test_a_login_during_a_run_is_used_by_the_next_retry_without_waiting(tmp_path, files):
    """The refusal says "fix the credentials, then retry": doing exactly that while the engine
    runs must work at once, not after a restart or the quiet minute."""
    with FakeHost("pixeldrain", credentials={"api_key": "right-key-456"}) as px:
        paths = make_home(tmp_path / "home", {"pixeldrain": px})
        paths.credentials_file.write_text('[pixeldrain]\napi_key = "wrong-key-123"\n')
        paths.credentials_file.chmod(0o600)
        engine, _ = start_engine(paths)
        try:
            (upload_id,) = engine.queue.add(files[:1], ["pixeldrain"])
            engine.wake()
            wait_until(all_finished, 30, "the refusal")
            assert FileHostUpload.get_by_id(upload_id).error_kind == "auth"
            login = cli(tmp_path / "home", "login", "pixeldrain", stdin="right-key-456\n")
            assert login.returncode == 0, login.stderr
            engine.control.retry(upload_id)
            engine.wake()
            wait_until(all_finished, 30, "the retried upload")
        finally:
            engine.stop()
        row = FileHostUpload.get_by_id(upload_id)
        assert (row.status, row.error_message) == ("completed", None)
        assert px.upload_attempts == 2  # refused once, then accepted; no third try


def test_md5_hashing_is_shown_but_not_counted_as_upload_traffic(tmp_path, monkeypatch):
    data = tmp_path / "video.bin"
    data.write_bytes(os.urandom(2_000_000))
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_USERNAME", "user@example.invalid")
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_PASSWORD", "pw-12345678")
    creds = {"username": "user@example.invalid", "password": "pw-12345678"}
    with FakeHost("rapidgator", credentials=creds) as rg:
        paths = make_home(tmp_path / "home", {"rapidgator": rg})
        engine, _ = start_engine(paths)
        try:
            engine.queue.add([data], ["rapidgator"])
            engine.wake()
            wait_until(all_finished, 30, "the upload")
            sent = engine.meter.total_bytes
        finally:
            engine.stop()
        assert FileHostUpload.get(FileHostUpload.id == 1).status == "completed"
        assert rg.received[0].md5 == md5(data)
        assert sent <= 2_000_000 * 1.1  # the body once (plus multipart framing), not hash + body
