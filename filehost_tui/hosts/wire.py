"""Values that cross the wire: request parts, the reply, and how a reply is gathered.

Kept apart from the pycurl client so host code and classification can build and judge replies
without importing libcurl machinery.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.hosts.reply_text import excerpt
from filehost_tui.redact import redact_url

Progress = Callable[[int, int], bool]  # (uploaded_bytes, total_bytes) -> True to ABORT

# API replies are small; a bigger one comes from a broken or hostile host.
MAX_REPLY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class FieldPart:
    name: str
    value: str


@dataclass(frozen=True)
class BodySource:
    """A body generated while it is sent (a folder's ZIP), never a file on disk.

    `size` is exact and known up front, so Content-Length and multipart work as for a file;
    `chunks(offset)` yields the bytes from `offset` to the end, regenerated on every call, so
    libcurl can rewind (seek back) and a retry sends the same bytes."""

    size: int
    chunks: Callable[[int], Iterator[bytes]] = field(repr=False)

    def open(self) -> BodyReader:
        return BodyReader(self)


Body = Path | BodySource  # what an upload sends: a file, or bytes made as they are sent


class BodyReader:
    """Serves a BodySource in the pieces libcurl asks for; `seek` starts the bytes over."""

    def __init__(self, source: BodySource) -> None:
        self._source = source
        self._chunks: Iterator[bytes] = iter(())
        self._pending = memoryview(b"")
        self.seek(0)

    def read(self, n: int) -> bytes:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            if 0 < len(chunk) <= n:
                return chunk  # the common case, a whole chunk: no copy
            self._pending = memoryview(chunk)
        out = bytes(self._pending[:n])
        self._pending = self._pending[n:]
        return out

    def seek(self, offset: int) -> None:
        self.close()
        self._chunks = iter(self._source.chunks(offset))

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()  # a generator holding an open file closes it now, not at garbage collection
        self._pending = memoryview(b"")


def body_size(body: Body) -> int:
    """Bytes the body sends; UploadError(NOT_FOUND) for a file that cannot be read."""
    if isinstance(body, BodySource):
        return body.size
    try:
        size = body.stat().st_size
    except OSError as exc:
        raise UploadError(ErrorKind.NOT_FOUND, f"cannot read {body}: {exc.strerror}") from None
    if not body.is_file():
        raise UploadError(ErrorKind.NOT_FOUND, f"not a regular file: {body}")
    return size


@dataclass(frozen=True)
class FilePart:
    name: str
    path: Body
    filename: str
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-cased names, last value wins
    body: bytes
    url: str  # effective URL
    # Every header of the final response, in order (e.g. several Set-Cookie lines).
    header_items: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def text(self) -> str:
        """The body decoded with the charset the server named, else UTF-8 (undecodable -> U+FFFD)."""
        match = re.search(r"charset=([\w.:-]+)", self.headers.get("content-type", ""), re.I)
        try:
            return self.body.decode(match.group(1) if match else "utf-8", "replace")
        except LookupError:
            return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise UploadError(
                ErrorKind.BAD_RESPONSE,
                f"expected JSON from {redact_url(self.url)} (HTTP {self.status}), "
                f"got {excerpt(self.text())!r}",
            ) from None


def with_params(url: str, params: Mapping[str, str] | None) -> str:
    """`url` with `params` appended to its query string (URL-encoded)."""
    if not params:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(list(params.items()))


_STATUS_LINE = re.compile(r"HTTP/[\d.]+\s+(\d{3})\b")


class ReplyCollector:
    """Response headers and body as libcurl hands them over; the body is capped.

    It notes the final status line, so that when the transfer fails afterwards it is known whether
    the server had already answered, and with what.
    """

    def __init__(self, limit: int = MAX_REPLY_BYTES) -> None:
        self.limit = limit
        self.status = 0  # of the last final (non-1xx) status line seen; 0 = none yet
        self.items: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflow = False

    def header(self, line: bytes) -> None:
        text = line.decode("iso-8859-1").rstrip("\r\n")
        if text.startswith("HTTP/"):
            self.items = []  # a new response (1xx, then the final one): keep only the last one's
            match = _STATUS_LINE.match(text)
            if match and not match.group(1).startswith("1"):
                self.status = int(match.group(1))
        elif ":" in text:
            name, _, value = text.partition(":")
            self.items.append((name.strip().lower(), value.strip()))

    def write(self, data: bytes) -> int | None:
        self.size += len(data)
        if self.size > self.limit:
            self.overflow = True
            return 0  # libcurl: fewer bytes than given = write error, transfer stops
        self.chunks.append(data)
        return None

    def response(self, status: int, url: str) -> Response:
        items = tuple(self.items)
        return Response(status, dict(items), b"".join(self.chunks), url, items)
