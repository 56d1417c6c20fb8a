"""Request bodies read as a stream: Content-Length or chunked, optionally throttled.

Uploads can be gigabytes, so nothing here ever holds a whole body; callers pull bounded chunks.
The throttle sleeps on the server's stop event so that `FakeHost.stop()` is never delayed by it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import BinaryIO

CHUNK = 256 * 1024
_MAX_LINE = 8 * 1024


class ClientGone(Exception):
    """The client closed the connection, or sent a malformed body; the request is abandoned."""


class BodyReader:
    """Reads one request body. `read` returns b"" at the end, like a file."""

    def __init__(
        self,
        rfile: BinaryIO,
        *,
        length: int | None,
        chunked: bool,
        throttle: Callable[[], int],
        stopping: threading.Event,
        on_first_read: Callable[[], None] | None = None,
    ) -> None:
        self._rfile = rfile
        self._remaining = length or 0  # bytes left in the body (or in the current chunk)
        self._chunked = chunked
        self._done = not chunked and not length
        self._throttle = throttle
        self._stopping = stopping
        self._on_first_read = on_first_read
        self._begun = False
        self._started = 0.0
        self._crlf_pending = False  # chunked: the CRLF that ends the previous chunk's data
        self.count = 0

    def set_throttle(self, throttle: Callable[[], int]) -> None:
        self._throttle = throttle

    @property
    def done(self) -> bool:
        return self._done

    def read(self, n: int = CHUNK) -> bytes:
        if self._done:
            return b""
        if not self._begun:
            self._begun = True
            if self._on_first_read is not None:
                self._on_first_read()
            self._started = time.monotonic()
        if self._chunked and self._remaining == 0 and not self._next_chunk():
            return b""
        bps = self._throttle()
        if bps > 0:
            n = min(n, max(1, bps // 20))  # keep each sleep short so the rate stays smooth
        data = self._rfile.read1(min(n, self._remaining)) if self._remaining else b""
        if not data:
            raise ClientGone("connection closed before the end of the body")
        self._remaining -= len(data)
        self.count += len(data)
        if not self._chunked and self._remaining == 0:
            self._done = True
        if bps > 0:
            self._pace(bps)
        return data

    def drain(self) -> int:
        """Read and discard the rest of the body (keeps keep-alive connections in sync)."""
        while self.read():
            pass
        return self.count

    def read_all(self, limit: int) -> bytes:
        """The whole body for small JSON/form requests; refuses more than `limit` bytes."""
        parts: list[bytes] = []
        size = 0
        while chunk := self.read():
            size += len(chunk)
            if size > limit:
                raise ClientGone(f"body larger than {limit} bytes where a small one was expected")
            parts.append(chunk)
        return b"".join(parts)

    def _pace(self, bps: int) -> None:
        ahead = self.count / bps - (time.monotonic() - self._started)
        if ahead > 0:
            self._stopping.wait(ahead)

    def _next_chunk(self) -> bool:
        """Parse the next chunk header; at the last chunk, consume the trailers and finish."""
        if self._crlf_pending and self._rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n"):
            raise ClientGone("chunk data not followed by CRLF")
        self._crlf_pending = True
        line = self._rfile.readline(_MAX_LINE)
        if not line.endswith(b"\n"):
            raise ClientGone("truncated chunk header")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise ClientGone("malformed chunk header") from exc
        if size == 0:
            while True:  # trailers end with an empty line
                trailer = self._rfile.readline(_MAX_LINE)
                if not trailer.endswith(b"\n"):
                    raise ClientGone("truncated chunked trailer")
                if trailer in (b"\r\n", b"\n"):
                    break
            self._done = True
            return False
        self._remaining = size
        return True
