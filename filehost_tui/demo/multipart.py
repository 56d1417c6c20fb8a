"""Streaming multipart/form-data parser that hashes file parts instead of keeping them.

The fake hosts must accept multi-gigabyte uploads with a flat memory profile, so file parts are
fed to MD5 and counted as they arrive; only ordinary form fields (small by nature, capped) are kept.
Boundaries are found across chunk edges by carrying the last len(delimiter) - 1 bytes forward.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import HeaderParser
from email.policy import HTTP

from filehost_tui.demo.body import CHUNK, ClientGone

MAX_FIELD = 1024 * 1024
MAX_HEADERS = 16 * 1024


class MalformedMultipart(ClientGone):
    """The body is not valid multipart/form-data (or ends before its closing boundary)."""


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str
    size: int
    md5: str
    content_type: str


@dataclass(frozen=True)
class MultipartData:
    fields: dict[str, str]
    files: tuple[UploadedFile, ...]

    def file(self, field: str) -> UploadedFile | None:
        return next((f for f in self.files if f.field == field), None)


def boundary_of(content_type: str | None) -> bytes | None:
    """The boundary parameter of a multipart/form-data Content-Type, or None."""
    if not content_type:
        return None
    msg = HeaderParser(policy=HTTP).parsestr(f"Content-Type: {content_type}\n\n")
    header = msg["content-type"]
    if header is None or header.content_type != "multipart/form-data":
        return None
    boundary = header.params.get("boundary")
    return boundary.encode("latin-1", "replace") if boundary else None


class _Stream:
    """A byte buffer over `read` with the delimiter search the parser needs."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read = read
        self.buf = b"\r\n"  # lets the first boundary match the same CRLF-prefixed delimiter

    def fill(self) -> None:
        chunk = self._read(CHUNK)
        if not chunk:
            raise MalformedMultipart("multipart body ended before its closing boundary")
        self.buf += chunk

    def ensure(self, n: int) -> None:
        while len(self.buf) < n:
            self.fill()

    def take_until(self, marker: bytes, limit: int) -> bytes:
        """Bytes before `marker` (marker consumed); refuses to look further than `limit`."""
        while (i := self.buf.find(marker)) < 0:
            if len(self.buf) > limit:
                raise MalformedMultipart("multipart headers too long")
            self.fill()
        head, self.buf = self.buf[:i], self.buf[i + len(marker) :]
        return head

    def stream_until(self, delim: bytes, sink: Callable[[bytes], None]) -> None:
        """Feed everything before `delim` to `sink` in chunks; `delim` is consumed."""
        keep = len(delim) - 1
        while (i := self.buf.find(delim)) < 0:
            if len(self.buf) > keep:
                sink(self.buf[:-keep])
                self.buf = self.buf[-keep:]
            self.fill()
        if i:
            sink(self.buf[:i])
        self.buf = self.buf[i + len(delim) :]


def _part_headers(raw: bytes) -> tuple[str, str | None, str]:
    msg = HeaderParser(policy=HTTP).parsestr(raw.decode("utf-8", "replace") + "\r\n\r\n")
    disposition = msg["content-disposition"]
    if disposition is None or disposition.content_disposition != "form-data":
        raise MalformedMultipart("part without Content-Disposition: form-data")
    name = disposition.params.get("name")
    if name is None:
        raise MalformedMultipart("form-data part without a name")
    ctype = msg["content-type"]
    return str(name), disposition.params.get("filename"), ctype.content_type if ctype else ""


def _read_part(stream: _Stream, delim: bytes, fields: dict[str, str], files: list) -> None:
    name, filename, ctype = _part_headers(stream.take_until(b"\r\n\r\n", MAX_HEADERS))
    if filename is None:
        pieces: list[bytes] = []
        size = 0

        def keep(data: bytes) -> None:
            nonlocal size
            size += len(data)
            if size > MAX_FIELD:
                raise MalformedMultipart(f"form field {name!r} larger than {MAX_FIELD} bytes")
            pieces.append(data)

        stream.stream_until(delim, keep)
        fields[name] = b"".join(pieces).decode("utf-8", "replace")
        return
    digest = hashlib.md5()
    count = 0

    def hash_it(data: bytes) -> None:
        nonlocal count
        count += len(data)
        digest.update(data)

    stream.stream_until(delim, hash_it)
    files.append(UploadedFile(name, str(filename), count, digest.hexdigest(), ctype))


def parse_multipart(read: Callable[[int], bytes], boundary: bytes) -> MultipartData:
    """Consume a whole multipart body from `read`, returning fields and hashed file parts."""
    delim = b"\r\n--" + boundary
    stream = _Stream(read)
    stream.stream_until(delim, lambda _preamble: None)
    fields: dict[str, str] = {}
    files: list[UploadedFile] = []
    while True:
        stream.ensure(2)
        if stream.buf.startswith(b"--"):
            break
        stream.take_until(b"\r\n", 1024)  # rest of the boundary line (transport padding)
        stream.ensure(2)
        if stream.buf.startswith(b"\r\n"):
            raise MalformedMultipart("multipart part without headers")
        _read_part(stream, delim, fields, files)
    while read(CHUNK):  # epilogue
        pass
    return MultipartData(fields, tuple(files))
