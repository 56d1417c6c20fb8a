"""A queued folder ("gallery") becomes one ZIP file for upload (docs/architecture.md, 'Transfer').

Why these choices:
- STORE, not deflate: galleries are mostly JPEG/PNG/video, which do not compress; storing is
  disk-speed and keeps the CPU for the uploads.
- Deterministic bytes (sorted names, UTC mtimes, fixed permission bits): rebuilding the same
  folder gives the same archive, so hosts that dedupe by MD5 recognise a retry, and a cached
  archive can be trusted as long as `fingerprint()` has not changed.
- Written to `<dest>.part`, fsynced and renamed: a crash or cancel never leaves a half archive
  under the final name; a failed or cancelled build removes the `.part` file.

What goes in (one walk, shared by `fingerprint`, `folder_summary` and `build_archive`):
- every regular file under the folder, subfolders included, named by its path relative to the
  folder with '/' separators; empty directories are not stored;
- a symlink to a regular file *inside* the folder is stored as a copy of that file under the
  link's own name (galleries sometimes link a cover image); every other symlink — pointing
  outside the folder, broken, or to a directory — is skipped, and symlinked directories are
  never descended;
- FIFOs, sockets and device nodes are skipped: they have no content to upload, and opening a
  FIFO would hang the build.
A file that cannot be opened or read (permission denied, I/O error, deleted meanwhile) fails the
build with UploadError(NOT_FOUND) naming its relative path.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import shutil
import stat
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.units import human_size

CHUNK_SIZE = 2 * 1024 * 1024
PROGRESS_INTERVAL = 0.1  # seconds: at most ~10 progress calls a second
_EXTERNAL_ATTR = (stat.S_IFREG | 0o644) << 16  # fixed, so archives do not depend on local modes
_MIN_DATE = (1980, 1, 1, 0, 0, 0)
_MAX_DATE = (2107, 12, 31, 23, 59, 58)


@dataclass(frozen=True)
class ArchiveEntry:
    """One file to store: `relpath` uses '/' separators; `source` is what gets opened."""

    relpath: str
    source: Path
    size: int
    mtime_ns: int


def scan_folder(folder: Path) -> list[ArchiveEntry]:
    """Every file that would be archived, sorted by relative path (see the module docstring)."""
    root = _checked_root(folder)
    entries = list(_walk(root))
    entries.sort(key=lambda e: e.relpath.split("/"))
    return entries


def fingerprint(folder: Path) -> str:
    """sha256 hex of the sorted (relpath, size, mtime_ns) of every archived file.

    Cheap (no file content is read) and changes when a file is added, removed, renamed, resized
    or touched, which is what decides whether a cached archive is still good.
    """
    digest = hashlib.sha256()
    for entry in scan_folder(folder):
        name = entry.relpath.encode("utf-8", "surrogateescape")
        digest.update(b"%s\0%d\0%d\0" % (name, entry.size, entry.mtime_ns))
    return digest.hexdigest()


def folder_summary(folder: Path) -> tuple[int, int]:
    """(total bytes, file count) of what `build_archive` would store; (0, 0) for an empty folder.

    Raises UploadError naming the first file that cannot be read: better told at `add` than when
    the archive is built, maybe hours later."""
    entries = scan_folder(folder)
    for entry in entries:
        if not os.access(entry.source, os.R_OK):
            raise _unreadable(entry.relpath, PermissionError())
    return sum(e.size for e in entries), len(entries)


def archive_name(item_id: int, name: str, fingerprint: str) -> str:
    """A file name safe on any filesystem: `<id>-<ascii slug of name>-<fingerprint[:12]>.zip`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in ascii_name)
    slug = "_".join(part for part in slug.split("_") if part).strip("._-")[:60] or "item"
    safe_fp = "".join(c for c in fingerprint.lower() if c in "0123456789abcdef")[:12] or "0"
    return f"{int(item_id)}-{slug}-{safe_fp}.zip"


def part_path(dest: Path) -> Path:
    """The temporary name a build writes before the final rename: `<dest>.part`."""
    return dest.with_name(dest.name + ".part")


def build_archive(
    folder: Path,
    dest: Path,
    *,
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Store every file of `folder` in a ZIP at `dest` (0600) and return `dest`.

    `cancelled()` is polled between chunks (UploadError CANCELLED); `progress(bytes_done)` counts
    file content bytes and is called at most ~10 times a second, plus once at the end.
    """
    entries = scan_folder(folder)
    if not entries:
        raise UploadError(
            ErrorKind.NOT_FOUND,
            f"folder {folder} contains no files to upload; add files or remove it from the queue",
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    reporter = _ProgressReporter(progress)
    try:
        _write_zip(part, entries, cancelled, reporter)
        os.replace(part, dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _fsync_dir(dest.parent)
    reporter.finish()
    return dest


def _checked_root(folder: Path) -> str:
    try:
        st = os.stat(folder)
    except FileNotFoundError:
        raise UploadError(
            ErrorKind.NOT_FOUND,
            f"folder {folder} no longer exists; restore it or remove it from the queue",
        ) from None
    except OSError as exc:
        raise UploadError(
            ErrorKind.NOT_FOUND, f"folder {folder}: {_reason(exc)}; fix it, then retry"
        ) from None
    if not stat.S_ISDIR(st.st_mode):
        raise UploadError(ErrorKind.NOT_FOUND, f"{folder} is not a folder any more")
    return os.path.realpath(folder)


def _walk(root: str) -> Iterator[ArchiveEntry]:
    """Depth-first walk of the real root; never follows a symlink out of it."""
    stack = [""]
    while stack:
        reldir = stack.pop()
        for entry in _list_dir(root, reldir):
            rel = f"{reldir}/{entry.name}" if reldir else entry.name
            try:
                if entry.is_symlink():
                    found = _inside_link(root, rel, entry.path)
                    if found is not None:
                        yield found
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(rel)
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    yield ArchiveEntry(rel, Path(entry.path), st.st_size, st.st_mtime_ns)
            except FileNotFoundError:
                continue  # deleted while we looked: it is simply not part of the folder now


def _list_dir(root: str, reldir: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(os.path.join(root, reldir) if reldir else root) as it:
            return list(it)
    except FileNotFoundError:
        return []  # a subfolder deleted while we walk: nothing left of it to store
    except OSError as exc:
        raise _unreadable(f"{reldir}/" if reldir else f"folder {root}", exc) from None


def _inside_link(root: str, rel: str, link_path: str) -> ArchiveEntry | None:
    """The entry for a symlink to a regular file inside `root`, else None (skipped)."""
    target = os.path.realpath(link_path)
    if os.path.commonpath([root, target]) != root or target == root:
        return None
    try:
        st = os.stat(target, follow_symlinks=False)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return ArchiveEntry(rel, Path(target), st.st_size, st.st_mtime_ns)


def _write_zip(
    part: Path,
    entries: list[ArchiveEntry],
    cancelled: Callable[[], bool],
    reporter: _ProgressReporter,
) -> None:
    buf = bytearray(CHUNK_SIZE)
    names = _member_names([e.relpath for e in entries])
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        os.fchmod(fd, 0o600)  # a stale .part from a crash may carry other bits
        with open(fd, "wb") as raw:
            with zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
                for entry, name in zip(entries, names, strict=True):
                    _check_cancelled(cancelled)
                    _store_file(zf, entry, name, buf, cancelled, reporter)
            raw.flush()
            os.fsync(raw.fileno())
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            need = sum(e.size for e in entries)
            free = shutil.disk_usage(part.parent).free
            with contextlib.suppress(OSError):
                free += part.stat().st_size  # removed as the build gives up
            raise UploadError(
                ErrorKind.DISK_FULL,
                f"disk full: the archive needs {human_size(need)} in {part.parent} and "
                f"{human_size(free)} is free; free some space there (it is retried)",
            ) from None
        raise UploadError(
            ErrorKind.NOT_FOUND,
            f"could not write archive {part}: {_reason(exc)}; fix the cache folder",
        ) from None


def _store_file(
    zf: zipfile.ZipFile,
    entry: ArchiveEntry,
    name: str,
    buf: bytearray,
    cancelled: Callable[[], bool],
    reporter: _ProgressReporter,
) -> None:
    src = _open_source(entry)
    with src:
        info = zipfile.ZipInfo(name, _zip_date(entry.mtime_ns))
        info.compress_type = zipfile.ZIP_STORED
        info.external_attr = _EXTERNAL_ATTR
        info.file_size = os.fstat(src.fileno()).st_size  # lets zipfile pick Zip64 up front
        view = memoryview(buf)
        with zf.open(info, "w", force_zip64=info.file_size >= zipfile.ZIP64_LIMIT // 2) as dst:
            while True:
                try:
                    n = src.readinto(buf)
                except OSError as exc:
                    raise _unreadable(entry.relpath, exc) from None
                if not n:
                    break
                dst.write(view[:n])
                reporter.add(n)
                _check_cancelled(cancelled)


def _open_source(entry: ArchiveEntry) -> io.FileIO:
    """Open without following a symlink swapped in since the scan; must still be a regular file."""
    try:
        fd = os.open(entry.source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise _unreadable(entry.relpath, exc) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UploadError(
            ErrorKind.NOT_FOUND,
            f"{entry.relpath}: is no longer a regular file; remove it, then retry",
        )
    os.set_blocking(fd, True)
    return io.FileIO(fd, "rb")


def _member_names(relpaths: list[str]) -> list[str]:
    """Archive names that are valid UTF-8, contain no backslash and are unique.

    Relative paths from the walk never hold '..', '.' or empty parts, nor start with '/', so no
    name can escape the archive; backslashes are replaced because Windows extractors treat them
    as separators, and undecodable bytes are spelled out (\\xff -> _xff).
    """
    seen: set[str] = set()
    names = []
    for rel in relpaths:
        text = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        parts = [p.replace("\\", "_") for p in text.split("/")]
        if any(p in ("", ".", "..") for p in parts):  # impossible from the walk; never allow it
            raise UploadError(ErrorKind.NOT_FOUND, f"{rel}: unsafe name inside the folder")
        name = candidate = "/".join(parts)
        counter = 2
        while candidate in seen:
            stem, dot, ext = name.rpartition(".")
            candidate = f"{stem}~{counter}.{ext}" if dot and stem else f"{name}~{counter}"
            counter += 1
        seen.add(candidate)
        names.append(candidate)
    return names


def _zip_date(mtime_ns: int) -> tuple[int, int, int, int, int, int]:
    """The file's mtime in UTC (not local time, so the bytes do not depend on TZ), clamped."""
    try:
        date = tuple(time.gmtime(mtime_ns // 1_000_000_000)[:6])
    except (OverflowError, OSError, ValueError):
        return _MIN_DATE if mtime_ns < 0 else _MAX_DATE
    return min(max(date, _MIN_DATE), _MAX_DATE)  # type: ignore[return-value]


def _check_cancelled(cancelled: Callable[[], bool]) -> None:
    if cancelled():
        raise UploadError(ErrorKind.CANCELLED, "archive build cancelled")


def _unreadable(relpath: str, exc: OSError) -> UploadError:
    return UploadError(
        ErrorKind.NOT_FOUND,
        f"{relpath}: {_reason(exc)}; fix its permissions or remove it, then retry",
    )


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "no longer exists"
    return (exc.strerror or str(exc)).lower()


def _fsync_dir(path: Path) -> None:
    """Make the rename durable; best effort (some filesystems refuse fsync on a directory)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _ProgressReporter:
    """Calls `progress(bytes_done)` at most once per PROGRESS_INTERVAL, and once at the end."""

    def __init__(self, progress: Callable[[int], None] | None) -> None:
        self._progress = progress
        self._done = 0
        self._last_call = time.monotonic()

    def add(self, n: int) -> None:
        self._done += n
        if self._progress is None:
            return
        now = time.monotonic()
        if now - self._last_call >= PROGRESS_INTERVAL:
            self._last_call = now
            self._progress(self._done)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress(self._done)
