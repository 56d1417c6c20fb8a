"""Private files and directories stay private whatever the umask (POSIX modes)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from filehost_tui.safe_files import (
    RotatingPrivateFileHandler,
    atomic_write_private,
    open_private,
    private_dir,
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_zero() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_private_dir_is_created_0700_even_with_umask_zero(tmp_path: Path, umask_zero: None) -> None:
    target = private_dir(tmp_path / "a" / "b")
    assert target.is_dir()
    assert mode_of(target) == 0o700


def test_private_dir_keeps_owner_write_when_umask_removes_it(tmp_path: Path) -> None:
    old = os.umask(0o277)
    try:
        target = private_dir(tmp_path / "d")
    finally:
        os.umask(old)
    assert mode_of(target) == 0o700


def test_private_dir_tightens_an_existing_loose_directory(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o755)
    private_dir(loose)
    assert mode_of(loose) == 0o700


def test_open_private_creates_0600_file_with_umask_zero(tmp_path: Path, umask_zero: None) -> None:
    path = tmp_path / "token"
    with open_private(path, "w", encoding="utf-8") as handle:
        handle.write("abc")
    assert mode_of(path) == 0o600
    assert path.read_text(encoding="utf-8") == "abc"


def test_open_private_tightens_an_existing_file_and_appends(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b"one\n")
    path.chmod(0o644)
    with open_private(path, "ab") as handle:
        handle.write(b"two\n")
    assert mode_of(path) == 0o600
    assert path.read_bytes() == b"one\ntwo\n"


def test_open_private_exclusive_mode_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_text("keep")
    with pytest.raises(FileExistsError):
        open_private(path, "x")
    assert path.read_text() == "keep"


def test_open_private_rejects_an_unknown_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported file mode"):
        open_private(tmp_path / "f", "q")


def test_atomic_write_replaces_content_as_0600_and_leaves_no_temp_file(
    tmp_path: Path, umask_zero: None
) -> None:
    path = tmp_path / "credentials.toml"
    path.write_bytes(b"old")
    path.chmod(0o666)
    atomic_write_private(path, b"new content")
    assert path.read_bytes() == b"new content"
    assert mode_of(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["credentials.toml"]


def test_atomic_write_into_missing_directory_fails_without_leaving_anything(
    tmp_path: Path,
) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write_private(tmp_path / "missing" / "f", b"x")
    assert list(tmp_path.iterdir()) == []


def test_rotating_log_keeps_every_file_0600(tmp_path: Path, umask_zero: None) -> None:
    log_file = tmp_path / "runner.log"
    stale_backup = tmp_path / "runner.log.1"
    stale_backup.write_text("from an older version\n")
    stale_backup.chmod(0o644)
    handler = RotatingPrivateFileHandler(log_file, maxBytes=200, backupCount=3, encoding="utf-8")
    logger = logging.getLogger(f"test.rotation.{id(handler)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        for i in range(40):
            logger.info("line %03d of the runner log, long enough to rotate soon", i)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(tmp_path.iterdir())
    assert [p.name for p in files] == ["runner.log", "runner.log.1", "runner.log.2", "runner.log.3"]
    assert {p.name: mode_of(p) for p in files} == {p.name: 0o600 for p in files}
    assert "line 039" in log_file.read_text(encoding="utf-8")


def test_rotating_log_tightens_an_existing_loose_log_file(tmp_path: Path) -> None:
    log_file = tmp_path / "runner.log"
    log_file.write_text("old line\n")
    log_file.chmod(0o644)
    handler = RotatingPrivateFileHandler(log_file, maxBytes=10_000, backupCount=1)
    try:
        handler.emit(logging.makeLogRecord({"msg": "new line", "levelno": logging.INFO}))
    finally:
        handler.close()
    assert mode_of(log_file) == 0o600
    assert log_file.read_text().splitlines() == ["old line", "new line"]
