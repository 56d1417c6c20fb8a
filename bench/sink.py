"""A fast loopback upload sink that speaks the 0x0 protocol, for the benchmarks.

Why not the demo's FakeHost: that one parses and records everything (MD5, multipart fields, faults)
and is built for correctness tests, not to stay out of the way at gigabytes per second. This sink
reads the body in large chunks straight into one reused buffer, counts it, CRC32s only the file
part's bytes (crc32 runs at several GB/s; MD5 would be the bottleneck), and answers
`POST /` (multipart field `file`) with the link as plain text, like 0x0.st does. One thread per
connection, keep-alive honoured, `Expect: 100-continue` answered at once so curl never waits
(`Sink(answer_expect=False)` ignores it instead, as some servers do, to measure that case).

It records, per request: when its first byte arrived, when the body ended (or the peer went away),
how many file bytes arrived, and their CRC32, so the benchmarks can time transfers from the
server's side and check that every byte arrived intact.
"""

from __future__ import annotations

import contextlib
import re
import socket
import socketserver
import threading
import time
import zlib
from dataclasses import dataclass

CHUNK = 1024 * 1024
HEAD_LIMIT = 64 * 1024


@dataclass
class Received:
    """One upload request as the sink saw it; times are time.monotonic() of this process."""

    port: int
    first_byte: float
    connection: int = 0  # which TCP connection carried it, numbered from 1 in accept order
    filename: str = ""
    body_bytes: int = 0
    file_bytes: int = 0
    crc32: int = 0
    ended: float | None = None
    complete: bool = False


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        leftover = b""
        sink: Sink = self.server.sink  # type: ignore[attr-defined]
        connection = sink.connected()
        while True:
            head, leftover, first = _read_head(sock, leftover)
            if head is None:
                return
            rec = Received(self.client_address[1], first, connection)
            if not _serve_one(sink, sock, head, leftover, rec, view):
                return
            leftover = b""


def _read_head(sock: socket.socket, data: bytes) -> tuple[bytes | None, bytes, float]:
    """Request line and headers (without the blank line), the body bytes read past them, and
    when the request's first byte arrived."""
    first = time.monotonic()
    while b"\r\n\r\n" not in data:
        if len(data) > HEAD_LIMIT:
            return None, b"", first
        try:
            more = sock.recv(65536)
        except OSError:
            return None, b"", first
        if not more:
            return None, b"", first
        if not data:
            first = time.monotonic()
        data += more
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest, first


def _serve_one(
    sink: Sink, sock: socket.socket, head: bytes, rest: bytes, rec: Received, view: memoryview
) -> bool:
    """Answer one request; False when the connection must close."""
    lines = head.decode("latin-1").split("\r\n")
    method, _, _ = lines[0].partition(" ")
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    if method != "POST" or "content-length" not in headers:
        _reply(sock, 405 if method != "POST" else 411, "POST / with a Content-Length\n")
        return False
    if sink.answer_expect and headers.get("expect", "").lower() == "100-continue":
        sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    match = re.search(r'boundary="?([^";]+)"?', headers.get("content-type", ""))
    if match is None:
        _reply(sock, 400, "multipart/form-data expected\n")
        return False
    length = int(headers["content-length"])
    sink.started(rec)
    ok = _read_body(sock, rest, length, match.group(1).encode(), rec, view)
    rec.ended = time.monotonic()
    sink.finished(rec)
    if not ok:
        return False
    name = rec.filename or "file"
    _reply(sock, 200, f"{sink.base_url}/{sink.count():06d}/{name}\n")
    return headers.get("connection", "").lower() != "close"


def _read_body(
    sock: socket.socket, rest: bytes, length: int, boundary: bytes, rec: Received, view: memoryview
) -> bool:
    """Stream `length` body bytes; CRC only the one file part's content. False on a short body."""
    trailer = len(b"\r\n--" + boundary + b"--\r\n")
    pos = 0  # body offset of the next byte
    part_head = b""
    content_start = -1
    content_end = length - trailer
    crc = 0
    pending = rest
    while pos < length:
        if pending:
            chunk = memoryview(pending)[: length - pos]
            pending = b""
        else:
            try:
                n = sock.recv_into(view, min(CHUNK, length - pos))
            except OSError:
                return False
            if n == 0:
                return False
            chunk = view[:n]
        start, n = pos, len(chunk)
        pos += n
        rec.body_bytes = pos
        if content_start < 0:
            part_head += bytes(chunk[: HEAD_LIMIT - len(part_head)])
            end = part_head.find(b"\r\n\r\n")
            if end < 0:
                if len(part_head) >= HEAD_LIMIT:
                    return False
                continue
            content_start = end + 4
            found = re.search(rb'filename="([^"]*)"', part_head[:end])
            rec.filename = found.group(1).decode("utf-8", "replace") if found else ""
        lo, hi = max(start, content_start), min(pos, content_end)
        if hi > lo:
            crc = zlib.crc32(chunk[lo - start : hi - start], crc)
            rec.file_bytes += hi - lo
            rec.crc32 = crc
    rec.complete = True
    return True


def _reply(sock: socket.socket, status: int, text: str) -> None:
    body = text.encode()
    reason = {200: "OK", 400: "Bad Request", 405: "Method Not Allowed", 411: "Length Required"}
    head = (
        f"HTTP/1.1 {status} {reason.get(status, 'Error')}\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with contextlib.suppress(OSError):
        sock.sendall(head.encode() + body)


class Sink:
    """A 0x0-protocol sink on 127.0.0.1; a context manager. `uploads` lists every request seen."""

    def __init__(self, *, answer_expect: bool = True) -> None:
        self.answer_expect = answer_expect
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._cond = threading.Condition()
        self._uploads: list[Received] = []
        self._done = 0
        self._connections = 0
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"

    def __enter__(self) -> Sink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def connected(self) -> int:
        with self._cond:
            self._connections += 1
            return self._connections

    @property
    def connections(self) -> int:
        """TCP connections accepted since the start (or the last reset)."""
        with self._cond:
            return self._connections

    def started(self, rec: Received) -> None:
        with self._cond:
            self._uploads.append(rec)
            self._cond.notify_all()

    def finished(self, rec: Received) -> None:
        with self._cond:
            self._done += 1
            self._cond.notify_all()

    def count(self) -> int:
        with self._cond:
            return len(self._uploads)

    @property
    def uploads(self) -> list[Received]:
        with self._cond:
            return list(self._uploads)

    def reset(self) -> None:
        with self._cond:
            self._uploads.clear()
            self._done = 0
            self._connections = 0

    def wait_started(self, count: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self._uploads) >= count, timeout)

    def wait_finished(self, count: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._done >= count, timeout)
