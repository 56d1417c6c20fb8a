"""What of a queued folder ("gallery") goes into its ZIP, and under which names
(docs/architecture.md, 'Transfer').

The ZIP itself is generated while it is sent (zip_stream.py). Its bytes are deterministic (sorted
names, UTC mtimes, fixed permission bits), so hosts that dedupe by MD5 recognise a retry.

What goes in (one walk, shared by `fingerprint`, `folder_summary` and the stream):
- every regular file under the folder, subfolders included, named by its path relative to the
  folder with '/' separators; empty directories are not stored;
- a symlink to a regular file *inside* the folder is stored as a copy of that file under the
  link's own name (galleries sometimes link a cover image); every other symlink — pointing
  outside the folder, broken, or to a directory — is skipped, and symlinked directories are
  never descended;
- FIFOs, sockets and device nodes are skipped: they have no content to upload, and opening a
  FIFO would hang the build.
A file that cannot be opened or read (permission denied, I/O error) fails the upload with
UploadError(NOT_FOUND) naming its relative path; one deleted or changed since the scan is
SOURCE_CHANGED (zip_stream.py).
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filehost_tui.errors import ErrorKind, UploadError

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
            raise unreadable(entry.relpath, PermissionError())
    return sum(e.size for e in entries), len(entries)


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
        raise unreadable(f"{reldir}/" if reldir else f"folder {root}", exc) from None


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


def open_source(entry: ArchiveEntry) -> io.FileIO:
    """Open without following a symlink swapped in since the scan; must still be a regular file."""
    try:
        fd = os.open(entry.source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise changed(entry.relpath) from None
    except OSError as exc:
        raise unreadable(entry.relpath, exc) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UploadError(
            ErrorKind.NOT_FOUND,
            f"{entry.relpath}: is no longer a regular file; remove it, then retry",
        )
    os.set_blocking(fd, True)
    return io.FileIO(fd, "rb")


def member_names(relpaths: list[str]) -> list[str]:
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


def zip_date(mtime_ns: int) -> tuple[int, int, int, int, int, int]:
    """The file's mtime in UTC (not local time, so the bytes do not depend on TZ), clamped."""
    try:
        date = tuple(time.gmtime(mtime_ns // 1_000_000_000)[:6])
    except (OverflowError, OSError, ValueError):
        return _MIN_DATE if mtime_ns < 0 else _MAX_DATE
    return min(max(date, _MIN_DATE), _MAX_DATE)  # type: ignore[return-value]


def changed(relpath: str) -> UploadError:
    """Bytes already sent cannot be taken back: the whole archive is sent again, planned anew."""
    return UploadError(
        ErrorKind.SOURCE_CHANGED,
        f"{relpath}: the folder changed while uploading; it is sent again from the start",
    )


def unreadable(relpath: str, exc: OSError) -> UploadError:
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
