"""One process at a time runs uploads for a database: the runner, or a TUI with in-process workers.

An flock on a file in the data dir; the holder writes its pid and kind ("runner" or "tui") there,
so a second runner can say who holds it and a TUI can attach to it. The kernel drops the lock when
the holder dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from typing import Literal

from filehost_tui.errors import UserError
from filehost_tui.paths import AppPaths

Holder = Literal["runner", "tui"]
HOLDERS: tuple[Holder, ...] = ("runner", "tui")


class RunnerLock:
    def __init__(self, paths: AppPaths, holder: Holder = "runner") -> None:
        self.path = paths.runner_lock
        self.holder = holder
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise UserError naming the process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UserError(_held_message(self.path)) from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {self.holder}".encode())
        except OSError as exc:  # a full disk, most often: say so instead of a traceback
            os.close(fd)
            raise UserError(
                f"cannot write {self.path}: {exc.strerror}; free some space there and retry"
            ) from None
        self._fd = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


def _held_message(path: os.PathLike[str]) -> str:
    pid, holder = _read_holder(path)
    who = f"pid {pid}" if pid else "another process"
    if holder == "tui":
        return (
            f"the filehost-tui TUI ({who}) is already uploading from this database; "
            "add work and control it there, or quit it and run again"
        )
    return (
        f"another runner ({who}) is already uploading from this database; stop it, "
        "or open `filehost-tui` to watch and control it"
    )


def _read_holder(path: os.PathLike[str]) -> tuple[int | None, str]:
    """(pid, kind) from the lock file; a bare pid (an older version's file) is a runner."""
    try:
        with open(path) as fh:
            words = fh.read().split()
    except OSError:
        return None, "runner"
    pid = int(words[0]) if words and words[0].isdigit() else None
    holder = words[1] if len(words) > 1 and words[1] in HOLDERS else "runner"
    return pid, holder


def runner_pid(paths: AppPaths) -> int | None:
    """The pid of the process holding the runner lock, or None when nobody runs uploads."""
    try:
        fd = os.open(paths.runner_lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_holder(paths.runner_lock)[0] or -1
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
