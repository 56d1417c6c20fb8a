"""Folder -> ZIP archives: content, determinism, safety and failures."""

from __future__ import annotations

import os
import stat
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from filehost_tui.engine.archive import fingerprint, folder_summary
from filehost_tui.engine.zip_stream import build_archive, part_path, plan_folder
from filehost_tui.errors import ErrorKind, UploadError

SLOW_ENV = "FILEHOST_TUI_SLOW_TESTS"


def write(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def members(zip_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zip_path) as zf:
        assert zf.testzip() is None
        return {info.filename: zf.read(info) for info in zf.infolist()}


@pytest.fixture
def gallery(tmp_path: Path) -> Path:
    root = tmp_path / "My Gallery"
    write(root, "01 cover.jpg", os.urandom(3000))
    write(root, "sub/deeper/notes.txt", b"hello\n")
    write(root, "sub/zeta.bin", b"z" * 10)
    return root


def test_nested_unicode_and_odd_names_roundtrip_with_equal_bytes(tmp_path: Path) -> None:
    root = tmp_path / "g"
    expected = {
        "a b.txt": os.urandom(100),
        "quote\"s and 'apostrophes'.txt": b"q",
        "emoji \U0001f600.jpg": os.urandom(5000),
        "new\nline.txt": b"nl",
        "Ünïcödé/Ordner mit Leerzeichen/datei.bin": os.urandom(2048),
        "deep/a/b/c/d/e.txt": b"",
        "...": b"three dots is a legal name",
    }
    for rel, data in expected.items():
        write(root, rel, data)
    write(root, "back\\slash.txt", b"bs")
    (root / os.fsdecode(b"raw\xffbyte.txt")).write_bytes(b"raw")

    got = members(build_archive(root, tmp_path / "out.zip"))

    assert {k: got[k] for k in expected} == expected
    assert got["back_slash.txt"] == b"bs"  # Windows extractors would split on '\'
    assert got["raw_xffbyte.txt"] == b"raw"  # undecodable byte spelled out, still valid UTF-8
    assert len(got) == len(expected) + 2


def test_members_are_stored_sorted_relative_and_never_escape(gallery: Path, tmp_path: Path) -> None:
    dest = build_archive(gallery, tmp_path / "out.zip")

    with zipfile.ZipFile(dest) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == ["01 cover.jpg", "sub/deeper/notes.txt", "sub/zeta.bin"]
    assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
    for name in names:
        assert not name.startswith("/") and "\\" not in name
        assert not {"", ".", ".."} & set(name.split("/"))


def test_two_builds_are_byte_identical_even_in_another_timezone(
    gallery: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build_archive(gallery, tmp_path / "one.zip").read_bytes()
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        second = build_archive(gallery, tmp_path / "two.zip").read_bytes()
    finally:
        monkeypatch.undo()
        time.tzset()

    assert first == second


def test_timestamps_are_the_files_mtime_in_utc_clamped_to_zip_range(tmp_path: Path) -> None:
    root = tmp_path / "g"
    old = write(root, "old.txt", b"o")
    new = write(root, "new.txt", b"n")
    os.utime(old, ns=(0, 0))  # 1970: before the ZIP epoch
    os.utime(new, ns=(0, 1_700_000_000 * 10**9))  # 2023-11-14 22:13:20 UTC

    with zipfile.ZipFile(build_archive(root, tmp_path / "out.zip")) as zf:
        assert zf.getinfo("old.txt").date_time == (1980, 1, 1, 0, 0, 0)
        assert zf.getinfo("new.txt").date_time == (2023, 11, 14, 22, 13, 20)


def test_symlinks_never_lead_out_of_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "secret.txt", b"do not upload")
    root = tmp_path / "g"
    write(root, "real/photo.jpg", b"photo")
    (root / "to_outside_file").symlink_to(outside / "secret.txt")
    (root / "to_outside_dir").symlink_to(outside, target_is_directory=True)
    (root / "relative_escape").symlink_to("../outside/secret.txt")
    (root / "broken").symlink_to(root / "missing")
    (root / "to_inside_dir").symlink_to(root / "real", target_is_directory=True)
    (root / "cover.jpg").symlink_to("real/photo.jpg")  # inside: stored as a copy

    got = members(build_archive(root, tmp_path / "out.zip"))

    assert got == {"cover.jpg": b"photo", "real/photo.jpg": b"photo"}
    assert b"do not upload" not in (tmp_path / "out.zip").read_bytes()


def test_fifo_is_skipped_instead_of_hanging_the_build(gallery: Path, tmp_path: Path) -> None:
    before = fingerprint(gallery)
    os.mkfifo(gallery / "pipe")

    got = members(build_archive(gallery, tmp_path / "out.zip"))

    assert "pipe" not in got
    assert fingerprint(gallery) == before


def test_archive_is_private_and_no_part_file_is_left(gallery: Path, tmp_path: Path) -> None:
    dest = tmp_path / "cache" / "archives" / "x.zip"
    part_path(dest).parent.mkdir(parents=True)
    part_path(dest).write_bytes(b"stale leftover of a crash")
    os.chmod(part_path(dest), 0o644)

    assert build_archive(gallery, dest) == dest

    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert not part_path(dest).exists()
    assert part_path(dest).name == "x.zip.part"


def test_file_deleted_after_the_scan_fails_as_changed_naming_it(tmp_path: Path) -> None:
    root = tmp_path / "g"
    write(root, "a.txt", b"a")
    write(root, "sub/b.txt", b"b")
    plan = plan_folder(root)
    (root / "sub" / "b.txt").unlink()

    with pytest.raises(UploadError) as err:
        b"".join(plan.chunks())

    assert err.value.kind is ErrorKind.SOURCE_CHANGED and err.value.retryable
    assert err.value.message.startswith("sub/b.txt: the folder changed while uploading;")


def test_unreadable_file_fails_with_permission_denied_and_its_path() -> None:
    # Root reads anything, so as root the build runs in a child process that became `nobody`.
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        base = Path(tmp)
        os.chmod(base, 0o777)
        root = base / "g"
        write(root, "ok.txt", b"fine")
        secret = write(root, "sub/secret.txt", b"no")
        for d in (root, root / "sub"):
            os.chmod(d, 0o755)
        os.chmod(secret, 0)
        dest = base / "out.zip"

        kind, message, part_left = _as_unprivileged(lambda: _build_outcome(root, dest))

    assert kind == ErrorKind.NOT_FOUND
    assert message == (
        "sub/secret.txt: permission denied; fix its permissions or remove it, then retry"
    )
    assert part_left is False


def _build_outcome(root: Path, dest: Path) -> tuple[str, str, bool]:
    try:
        build_archive(root, dest)
    except UploadError as exc:
        return str(exc.kind), exc.message, part_path(dest).exists()
    return "ok", "", part_path(dest).exists()


def _as_unprivileged(fn: Callable[[], tuple[str, str, bool]]) -> tuple[str, str, bool]:
    if os.geteuid() != 0:
        return fn()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to nobody, report through the pipe, never return into pytest
        status = 1
        try:
            os.close(read_fd)
            os.setgid(65534)
            os.setuid(65534)
            os.write(write_fd, "\0".join(map(str, fn())).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        raw = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert status == 0, "child build crashed"
    kind, message, part_left = raw.split("\0")
    return kind, message, part_left == "True"


def test_missing_folder_is_not_found_with_a_clear_message(tmp_path: Path) -> None:
    for call in (fingerprint, folder_summary, lambda p: build_archive(p, tmp_path / "o.zip")):
        with pytest.raises(UploadError) as err:
            call(tmp_path / "gone")
        assert err.value.kind is ErrorKind.NOT_FOUND
        assert "no longer exists" in err.value.message


def test_empty_folder_cannot_be_archived(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    (root / "only" / "dirs").mkdir(parents=True)

    assert folder_summary(root) == (0, 0)
    with pytest.raises(UploadError) as err:
        build_archive(root, tmp_path / "out.zip")
    assert err.value.kind is ErrorKind.NOT_FOUND
    assert "contains no files" in err.value.message
    assert not (tmp_path / "out.zip").exists()


def test_zip64_is_used_when_a_file_exceeds_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Proves the Zip64 path quickly: lower zipfile's 4 GiB limit to 1 MiB for the build only.
    root = tmp_path / "g"
    data = os.urandom(3 * 1024 * 1024)
    write(root, "big.bin", data)
    write(root, "small.txt", b"s")
    with monkeypatch.context() as m:
        m.setattr(zipfile, "ZIP64_LIMIT", 1024 * 1024)
        dest = build_archive(root, tmp_path / "out.zip")

    with zipfile.ZipFile(dest) as zf:
        big = zf.getinfo("big.bin")
        assert big.file_size == len(data)
        assert big.extract_version >= zipfile.ZIP64_VERSION
        assert zf.read("big.bin") == data
    raw = dest.read_bytes()
    local_header = raw[: 30 + len("big.bin") + 20]
    assert local_header[18:26] == b"\xff" * 8  # sizes deferred to the Zip64 extra field


@pytest.mark.skipif(not os.environ.get(SLOW_ENV), reason=f"writes 4 GiB; set {SLOW_ENV}=1")
def test_sparse_file_over_4_gib_is_listed_with_its_real_size(tmp_path: Path) -> None:
    root = tmp_path / "g"
    root.mkdir()
    size = 4 * 1024**3 + 1
    with open(root / "huge.bin", "wb") as fh:
        fh.truncate(size)

    dest = build_archive(root, tmp_path / "out.zip")

    with zipfile.ZipFile(dest) as zf:
        assert [(i.filename, i.file_size) for i in zf.infolist()] == [("huge.bin", size)]


def test_fingerprint_changes_when_content_changes(gallery: Path) -> None:
    def changed_by(mutate: Callable[[], object]) -> bool:
        before = fingerprint(gallery)
        mutate()
        return fingerprint(gallery) != before

    notes = gallery / "sub" / "deeper" / "notes.txt"
    st = notes.stat()
    assert not changed_by(lambda: None)
    assert changed_by(lambda: notes.write_bytes(b"longer content"))
    assert changed_by(lambda: os.utime(notes, ns=(st.st_atime_ns, st.st_mtime_ns + 1)))
    assert changed_by(lambda: write(gallery, "new.txt", b""))
    assert changed_by(lambda: (gallery / "new.txt").rename(gallery / "renamed.txt"))


def test_folder_summary_counts_what_would_be_archived(gallery: Path) -> None:
    (gallery / "link.jpg").symlink_to("01 cover.jpg")
    assert folder_summary(gallery) == (3000 + 6 + 10 + 3000, 4)
