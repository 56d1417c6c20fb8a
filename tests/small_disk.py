"""A real filesystem that runs out of space on request: a small tmpfs mounted for one test.

Mounting needs root (as on the project's machines and CI); elsewhere the tests that need it skip,
except under CI, where a skip would hide the only check of full-disk behaviour.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

FILL_CHUNK = 64 * 1024


class SmallDisk:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._filler = root / "filler"

    def fill(self, database: Path | None = None) -> None:
        """Take every free byte. With `database`, first fold its WAL into the file and empty
        it, so that the next commit must grow the WAL and meets the full disk."""
        if database is not None:  # plain sqlite3: open_database would rebind the models
            conn = sqlite3.connect(database, timeout=15)
            try:
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                assert busy == 0, "a reader kept the WAL from being emptied"
            finally:
                conn.close()
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (FILL_CHUNK, 4096, 512, 1):
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\0" * size)
        finally:
            os.close(fd)
        probe = self.root / "probe"
        try:
            probe.write_bytes(b"x" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        else:
            raise AssertionError("the small disk still had room after filling it")

    def free(self) -> None:
        self._filler.unlink(missing_ok=True)
        (self.root / "probe").unlink(missing_ok=True)


@contextlib.contextmanager
def small_disk(where: Path, size: str = "32m") -> Iterator[SmallDisk]:
    where.mkdir(parents=True, exist_ok=True)
    mounted = os.geteuid() == 0 and (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
            capture_output=True,
        ).returncode
        == 0
    )
    if not mounted:
        if os.environ.get("CI"):
            pytest.fail("cannot mount a small tmpfs for the full-disk tests (CI runs as root)")
        pytest.skip("needs root to mount a small tmpfs")
    try:
        yield SmallDisk(where)
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
