"""Folders stream as ZIP onto the wire: real engine, real pycurl, fake hosts on loopback."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.events import UploadCompleted, UploadFailed, UploadProgress
from filehost_tui.engine.models import FileHostUpload
from filehost_tui.engine.states import Status
from filehost_tui.engine.zip_stream import build_archive
from filehost_tui.paths import AppPaths
from tests.engine_harness import make_home, start_engine, wait_until

RG_CREDS = {"username": "user@example.invalid", "password": "pw-12345678"}


def all_finished() -> bool:
    return (
        not FileHostUpload.select()
        .where(FileHostUpload.status.in_([Status.PENDING, Status.UPLOADING]))
        .exists()
    )


def folder_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def cache_bytes(paths: AppPaths) -> int:
    return sum(p.stat().st_size for p in paths.cache_dir.rglob("*") if p.is_file())


def make_folder(root: Path, sizes: list[int]) -> Path:
    for n, size in enumerate(sizes):
        path = root / ("sub" if n % 2 else "") / f"photo {n:02d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
    return root


def expected_zip(folder: Path, tmp_path: Path) -> tuple[str, Path]:
    """The bytes the stream must send (written here only to compare), and their MD5."""
    archive = build_archive(folder, tmp_path / "expected" / "expected.zip")
    return hashlib.md5(archive.read_bytes()).hexdigest(), archive


def run_until_idle(paths: AppPaths, folder: Path, hosts: list[str]) -> None:
    engine, _ = start_engine(paths)
    try:
        engine.queue.add([folder], hosts)
        engine.wake()
        wait_until(all_finished, 60, "every upload")
    finally:
        engine.stop()


def test_multipart_and_raw_put_hosts_receive_a_zip_that_extracts_to_the_folder(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("FILEHOST_TUI_PIXELDRAIN_API_KEY", "pd-key-0001")
    folder = make_folder(tmp_path / "Gällery ✓", [300_000, 0, 1_200_000, 7])
    with (
        FakeHost("0x0") as zx,
        FakeHost("pixeldrain", credentials={"api_key": "pd-key-0001"}) as px,
    ):
        paths = make_home(tmp_path / "home", {"0x0": zx, "pixeldrain": px})
        run_until_idle(paths, folder, ["0x0", "pixeldrain"])
        expected_md5, archive = expected_zip(folder, tmp_path)
        assert [(f.name, f.md5) for f in zx.received] == [("Gällery ✓.zip", expected_md5)]
        assert [(f.name, f.md5) for f in px.received] == [("Gällery ✓.zip", expected_md5)]
        assert [f.size for f in zx.received] == [archive.stat().st_size]
    with zipfile.ZipFile(archive) as zf:
        assert zf.testzip() is None
        assert {i.filename: zf.read(i) for i in zf.infolist()} == folder_files(folder)
    if shutil.which("unzip") is None and not os.environ.get("CI"):
        pytest.skip("the unzip command is not installed")
    subprocess.run(["unzip", "-q", str(archive), "-d", str(tmp_path / "x")], check=True)
    assert folder_files(tmp_path / "x") == folder_files(folder)


def test_a_reset_mid_body_is_retried_with_identical_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("FILEHOST_TUI_PIXELDRAIN_API_KEY", "pd-key-0001")
    folder = make_folder(tmp_path / "gallery", [900_000, 900_000, 900_000])
    with FakeHost("pixeldrain", credentials={"api_key": "pd-key-0001"}) as px:
        px.inject("reset", after_bytes=1_000_000)
        paths = make_home(tmp_path / "home", {"pixeldrain": px})
        run_until_idle(paths, folder, ["pixeldrain"])
        expected_md5, _ = expected_zip(folder, tmp_path)
        assert px.upload_attempts == 2
        assert [f.md5 for f in px.received] == [expected_md5]
        assert FileHostUpload.get().status == "completed"


def test_the_md5_a_host_asks_for_is_the_md5_of_the_bytes_it_receives(tmp_path, monkeypatch):
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_USERNAME", RG_CREDS["username"])
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_PASSWORD", RG_CREDS["password"])
    folder = make_folder(tmp_path / "gallery", [400_000, 5, 800_000])
    with FakeHost("rapidgator", credentials=RG_CREDS) as rg:
        paths = make_home(tmp_path / "home", {"rapidgator": rg})
        run_until_idle(paths, folder, ["rapidgator"])
        expected_md5, _ = expected_zip(folder, tmp_path)
        # the fake fails an upload whose body does not match the MD5 and size declared first
        assert [f.md5 for f in rg.received] == [expected_md5]
        row = FileHostUpload.get()
        assert (row.status, row.error_message) == ("completed", None)
        assert cache_bytes(paths) == 0


def test_a_folder_changed_mid_upload_fails_clearly_then_sends_the_new_content(tmp_path):
    folder = make_folder(tmp_path / "gallery", [1_000_000] * 6)
    last = sorted(folder.rglob("*.jpg"), key=lambda p: p.relative_to(folder).parts)[-1]
    with FakeHost("0x0") as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx}, {"0x0": "max_upload_speed = 1500000"})
        engine, rec = start_engine(paths)
        try:
            engine.queue.add([folder], ["0x0"])
            engine.wake()
            wait_until(
                lambda: any(e.uploaded > 0 for e in rec.of(UploadProgress)), 20, "bytes on the wire"
            )
            assert cache_bytes(paths) == 0  # streamed: no copy of the folder on disk
            with open(last, "ab") as fh:  # still far ahead of what has been read
                fh.write(b"appended")
            wait_until(lambda: rec.of(UploadFailed), 30, "the first attempt to fail")
            wait_until(lambda: rec.of(UploadCompleted), 60, "the retry to finish")
        finally:
            engine.stop()
        (failed,) = rec.of(UploadFailed)
        assert failed.will_retry and failed.error_kind == "source_changed"
        assert failed.message == (
            f"0x0: {last.relative_to(folder).as_posix()}: the folder changed while uploading; "
            "it is sent again from the start"
        )
        expected_md5, archive = expected_zip(folder, tmp_path)
        assert [f.md5 for f in zx.received] == [expected_md5]
        with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as zf:
            assert zf.read(last.relative_to(folder).as_posix()).endswith(b"appended")
        assert cache_bytes(paths) == 0
