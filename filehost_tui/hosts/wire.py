"""Values that cross the wire: request parts, the reply, and how a reply is gathered.

Kept apart from the pycurl client so host code and classification can build and judge replies
without importing libcurl machinery.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
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
class FilePart:
    name: str
    path: Path
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
