"""MD5 of a file, for hosts that want it before the upload (Rapidgator dedup).

Multi-GiB files take a while to hash, so it streams 1 MiB chunks, reports progress through the same
callback as the upload, and stops when that callback asks to cancel.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.hosts.wire import Progress

CHUNK = 1024 * 1024


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
