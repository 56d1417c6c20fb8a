"""One process at a time runs uploads for a database: the runner, or a TUI with in-process workers.

An flock on a file in the data dir; the holder writes its pid there, so a second runner can say who
holds it and a TUI can attach to it. The kernel drops the lock when the holder dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import fcntl
import os

from filehost_tui.errors import UserError
from filehost_tui.paths import AppPaths


class RunnerLock:
    def __init__(self, paths: AppPaths) -> None:
        self.path = paths.runner_lock
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise UserError naming the process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = runner_pid_from_file(self.path)
            who = f"pid {pid}" if pid else "another process"
            raise UserError(
                f"another runner ({who}) is already uploading from this database; stop it, "
                "or open `filehost-tui` to watch and control it"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError as exc:  # a full disk, most often: say so instead of a traceback
            os.close(fd)
            raise UserError(
                f"cannot write {self.path}: {exc.strerror}; free some space there and retry"
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


def runner_pid_from_file(path: os.PathLike[str]) -> int | None:
    try:
        with open(path) as fh:
            text = fh.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def runner_pid(paths: AppPaths) -> int | None:
    """The pid of the process holding the runner lock, or None when nobody runs uploads."""
    try:
        fd = os.open(paths.runner_lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return runner_pid_from_file(paths.runner_lock) or -1
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
