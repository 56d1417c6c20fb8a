"""MD5 of what an upload sends, for hosts that want it before the upload (Rapidgator dedup).

Multi-GiB files take a while to hash, so it streams 1 MiB chunks, reports progress through the same
callback as the upload, and stops when that callback asks to cancel. A generated body (a folder's
ZIP) is hashed by generating it once without sending or writing it: only hosts that ask pay.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.hosts.wire import Body, BodySource, Progress

CHUNK = 1024 * 1024


def body_md5(body: Body, progress: Progress | None = None) -> str:
    """Hex MD5 of `body`; raises UploadError(NOT_FOUND) if unreadable, (CANCELLED) on request."""
    if isinstance(body, BodySource):
        return _source_md5(body, progress)
    return file_md5(body, progress)


def _source_md5(source: BodySource, progress: Progress | None) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    done = 0
    reader = source.open()
    try:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None and progress(done, source.size):
                raise UploadError(ErrorKind.CANCELLED, "cancelled while hashing")
    finally:
        reader.close()
    return digest.hexdigest()


def file_md5(path: Path, progress: Progress | None = None) -> str:
    """Hex MD5 of `path`; raises UploadError(NOT_FOUND) if unreadable, (CANCELLED) on request."""
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with open(path, "rb") as fh:
            total = max(0, fh.seek(0, 2))
            fh.seek(0)
            done = 0
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                done += len(chunk)
                if progress is not None and progress(done, total):
                    raise UploadError(ErrorKind.CANCELLED, f"cancelled while hashing {path.name}")
    except OSError as exc:
        raise UploadError(ErrorKind.NOT_FOUND, f"cannot read {path}: {exc.strerror}") from None
    return digest.hexdigest()
