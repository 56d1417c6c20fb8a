"""Files and directories only the user can read: credentials, tokens, archives and logs.

Permissions are set explicitly (mkdir/chmod, os.open + fchmod) instead of trusting the umask, because a
headless server's umask may be 0 or 022 and these files hold passwords, session tokens and upload links.
On platforms without POSIX modes (Windows) the calls still work; the mode bits are best effort there.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO, Any

from filehost_tui.errors import UserError

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_OWNER_WX = stat.S_IWUSR | stat.S_IXUSR
_POSIX = os.name == "posix"

_BASE_FLAGS = {
    "r": os.O_RDONLY,
    "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
    "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
    "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL,
}


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create `path` (and missing parents) with the leaf at 0700; tighten it if it is looser.

    An existing directory is only tightened when the current user owns it (chmod would fail
    otherwise); call this only for directories that belong to the app. One the user made
    read-only (no owner write or search bit) is refused rather than quietly opened up again.
    """
    target = Path(path)
    existed = target.is_dir()
    target.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    if _POSIX:
        st = target.stat()
        mode = stat.S_IMODE(st.st_mode)
        if existed and st.st_uid == os.geteuid() and mode & _OWNER_WX != _OWNER_WX:
            raise UserError(
                f"{target} is read-only (mode {mode:04o}) and filehost-tui writes there; "
                f"`chmod 700 {target}` or use --home DIR"
            )
        if mode != PRIVATE_DIR_MODE and st.st_uid == os.geteuid():
            # mkdir's mode is filtered by the umask (umask 0o200 would drop our own write bit),
            # and an existing directory may have been created by an older version at 0755.
            target.chmod(PRIVATE_DIR_MODE)
    return target


def _flags_for(mode: str) -> int:
    kind = next((c for c in mode if c in _BASE_FLAGS), None)
    if kind is None or any(c not in "rwaxbt+" for c in mode):
        raise ValueError(f"unsupported file mode {mode!r}")
    flags = _BASE_FLAGS[kind]
    if "+" in mode:
        flags = (flags & ~(os.O_RDONLY | os.O_WRONLY)) | os.O_RDWR
    return flags | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _make_private(fd: int) -> None:
    if hasattr(os, "fchmod"):
        os.fchmod(fd, PRIVATE_FILE_MODE)


def open_private(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> IO[Any]:
    """open() for a file that must be 0600: created so, and tightened if it already existed.

    `mode` is an open() mode ("w", "ab", "x", "r+", ...); other keyword arguments (encoding, errors,
    buffering, newline) go to the file object.
    """
    fd = os.open(path, _flags_for(mode), PRIVATE_FILE_MODE)
    try:
        if "r" not in mode or "+" in mode:
            _make_private(fd)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable; not possible (nor needed) on every platform."""
    if not _POSIX:
        return
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def atomic_write_private(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace `path` with `data` all at once, as a 0600 file.

    Readers see the old content or the new one, never a torn write: a temp file in the same directory
    (so the rename cannot cross filesystems) is written, fsynced and renamed over the target.
    The parent directory must exist.
    """
    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        _make_private(fd)
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(target.parent)


class RotatingPrivateFileHandler(RotatingFileHandler):
    """The runner's log file: rotates like RotatingFileHandler, and every file of it is 0600.

    A new file is opened through open_private; renamed backups keep their mode, and backups left
    by an older version are tightened at each rollover.
    """

    def _open(self) -> IO[str]:
        return open_private(
            self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors
        )

    def doRollover(self) -> None:
        super().doRollover()
        for index in range(1, self.backupCount + 1):
            backup = self.rotation_filename(f"{self.baseFilename}.{index}")
            with contextlib.suppress(OSError):
                if _POSIX and stat.S_IMODE(os.stat(backup).st_mode) != PRIVATE_FILE_MODE:
                    os.chmod(backup, PRIVATE_FILE_MODE)
