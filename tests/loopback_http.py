"""A small threaded HTTP(S) server on 127.0.0.1 for transfer tests.

Tests need a real peer that misbehaves on purpose (stall, reset mid-body, answer 413 before reading,
read slowly, break the connection in the middle of its reply) and that can prove what it received without holding it: bodies are hashed and counted
as they stream in, and multipart bodies are split into parts on the fly, so a 1 GiB upload costs the
server a few hundred KiB of memory.

Usage::

    with LoopbackServer() as srv:
        srv.plan(Plan(status=429, headers={"Retry-After": "3"}))   # next request only
        ...  # requests without a queued plan are echoed as JSON (size, md5, parts)
        srv.requests[-1].md5
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHUNK = 256 * 1024


@dataclass(frozen=True)
class Plan:
    """How to treat one request. Defaults: read the whole body, answer 200 with a JSON echo."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None  # None: JSON echo of what was received
    read_bps: int = 0  # throttle body reads to this many bytes/s (0 = full speed)
    stall_after: int | None = None  # stop reading and never answer after this many body bytes
    reset_after: int | None = None  # abort the connection (TCP RST) after this many body bytes
    early: bool = False  # answer before reading the body, then close
    drain_after_early: bool = True  # then read and drop the body (lingering close)
    reset_in_reply: bool = False  # send the headers and half the body, then abort (TCP RST)
    invite: bool = True  # answer `Expect: 100-continue` (False: ignore it, as old servers do)


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    size: int
    md5: str
    value: str | None  # text of small non-file fields


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    size: int  # body bytes read
    md5: str  # of the raw body bytes read
    parts: tuple[Part, ...]
    peer: tuple[str, int]  # client address: same port = same (reused) connection


class _PartSink:
    def __init__(self, headers: bytes) -> None:
        self.name, self.filename = _disposition(headers.decode("utf-8", "replace"))
        self.size = 0
        self.md5 = hashlib.md5()
        self.head = b""

    def feed(self, data: bytes) -> None:
        self.size += len(data)
        self.md5.update(data)
        if len(self.head) < 65536:
            self.head += data[: 65536 - len(self.head)]

    def done(self) -> Part:
        value = None if self.filename is not None else self.head.decode("utf-8", "replace")
        return Part(self.name, self.filename, self.size, self.md5.hexdigest(), value)


def _disposition(headers: str) -> tuple[str, str | None]:
    name, filename = "", None
    for line in headers.split("\r\n"):
        if line.lower().startswith("content-disposition:"):
            for item in line.split(";")[1:]:
                key, _, val = item.strip().partition("=")
                val = val.strip().strip('"')
                if key.lower() == "name":
                    name = val
                elif key.lower() == "filename":
                    filename = val
    return name, filename


class MultipartStream:
    """Incremental multipart/form-data splitter: keeps at most one delimiter's worth of bytes."""

    def __init__(self, boundary: str) -> None:
        self.delim = b"\r\n--" + boundary.encode("latin-1")
        self.buf = b"\r\n"  # so the first delimiter looks like every other one
        self.state = "preamble"
        self.sink: _PartSink | None = None
        self.parts: list[Part] = []

    def feed(self, data: bytes) -> None:
        self.buf += data
        while self._step():
            pass

    def _step(self) -> bool:
        if self.state == "headers":
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            self.sink = _PartSink(self.buf[:end])
            self.buf = self.buf[end + 4 :]
            self.state = "data"
            return True
        if self.state not in ("preamble", "data"):
            return False
        at = self.buf.find(self.delim)
        if at < 0:
            keep = len(self.delim) + 1
            if len(self.buf) > keep:
                self._emit(self.buf[:-keep])
                self.buf = self.buf[-keep:]
            return False
        if len(self.buf) < at + len(self.delim) + 2:
            return False
        self._emit(self.buf[:at])
        if self.sink is not None:
            self.parts.append(self.sink.done())
            self.sink = None
        tail = self.buf[at + len(self.delim) : at + len(self.delim) + 2]
        self.buf = self.buf[at + len(self.delim) + 2 :]
        self.state = "done" if tail == b"--" else "headers"
        return True

    def _emit(self, data: bytes) -> None:
        if self.state == "data" and self.sink is not None and data:
            self.sink.feed(data)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        if self.server.tls is not None:
            tls = self.server.tls.wrap_socket(
                self.request, server_side=True, do_handshake_on_connect=False
            )
            try:
                tls.settimeout(10)
                tls.do_handshake()
                tls.settimeout(None)
            except OSError:
                tls.close()  # the client rejected our certificate: what the TLS test provokes
                raise
            self.request = tls
        self.server.track(self.request, add=True)
        self._continue_pending = False
        super().setup()

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.track(self.request, add=False)
        if self.server.tls is not None:
            self.request.close()  # socketserver closes the raw socket, which TLS detached

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def handle_expect_100(self) -> bool:
        """Invite the body only when about to read it, as a server that checks the headers first
        does: an early answer goes out without a "100 Continue" before it."""
        self._continue_pending = True
        return True

    def _invite_body(self) -> None:
        if self._continue_pending:
            self._continue_pending = False
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _serve(self) -> None:
        plan = self.server.next_plan()
        length = int(self.headers.get("Content-Length") or 0)
        if plan.early:
            self._answer(plan, None)
            self.close_connection = True
            if plan.drain_after_early:
                self._drain(length)
            return
        got = self._read_body(length, plan)
        if got is None:
            return
        self._answer(plan, got)

    def _read_body(self, length: int, plan: Plan) -> Received | None:
        if plan.invite:
            self._invite_body()
        ctype = self.headers.get("Content-Type", "")
        multipart = None
        if ctype.startswith("multipart/form-data") and "boundary=" in ctype:
            multipart = MultipartStream(ctype.split("boundary=", 1)[1].strip().strip('"'))
        md5, size, started = hashlib.md5(), 0, time.monotonic()
        limit = min(x for x in (length, plan.stall_after, plan.reset_after) if x is not None)
        while size < limit:
            want = min(CHUNK, limit - size)
            if plan.read_bps:
                want = min(want, max(1, plan.read_bps // 20))
            data = self.rfile.read1(want)
            if not data:
                break
            size += len(data)
            md5.update(data)
            if multipart is not None:
                multipart.feed(data)
            if plan.read_bps:
                ahead = size / plan.read_bps - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        got = Received(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            size=size,
            md5=md5.hexdigest(),
            parts=tuple(multipart.parts) if multipart else (),
            peer=self.client_address[:2],
        )
        self.server.record(got)
        if plan.reset_after is not None and size >= plan.reset_after:
            self._reset()
            return None
        if plan.stall_after is not None and size >= plan.stall_after:
            self.server.stopping.wait()
            self.close_connection = True
            return None
        return got

    def _answer(self, plan: Plan, got: Received | None) -> None:
        body = plan.body
        if body is None:
            echo = {"method": self.command, "path": self.path}
            if got is not None:
                echo |= {"size": got.size, "md5": got.md5, "parts": [vars(p) for p in got.parts]}
            body = json.dumps(echo).encode()
        self.send_response(plan.status)
        names = {k.lower() for k in plan.headers}
        for key, value in plan.headers.items():
            self.send_header(key, value)
        if "content-type" not in names:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if plan.early:
            self.send_header("Connection", "close")
        self.end_headers()
        if plan.reset_in_reply:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self._reset()
        elif self.command != "HEAD":
            self.wfile.write(body)

    def _drain(self, length: int) -> None:
        """Read and drop the rest of the body so the client sees the answer, not a reset."""
        self.request.settimeout(5)
        with contextlib.suppress(OSError):
            self.request.shutdown(socket.SHUT_WR)
            left = length
            while left > 0:
                data = self.rfile.read1(min(CHUNK, left))
                if not data:
                    break
                left -= len(data)

    def _reset(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.request.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, tls: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tls = tls
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._plans: deque[Plan] = deque()
        self._received: list[Received] = []
        self._socks: set[socket.socket] = set()

    def next_plan(self) -> Plan:
        with self._lock:
            return self._plans.popleft() if self._plans else Plan()

    def record(self, got: Received) -> None:
        with self._lock:
            self._received.append(got)

    def track(self, sock: socket.socket, *, add: bool) -> None:
        with self._lock:
            (self._socks.add if add else self._socks.discard)(sock)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # failed handshakes and client aborts are what these tests provoke

    def kick_all(self) -> None:
        with self._lock:
            socks = list(self._socks)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class LoopbackServer:
    """Context manager: start on an ephemeral 127.0.0.1 port; `url` is the base URL."""

    def __init__(self, *, certfile: str | None = None, keyfile: str | None = None) -> None:
        tls = None
        if certfile is not None:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(certfile, keyfile)
        self._server = _Server(tls)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def requests(self) -> list[Received]:
        with self._server._lock:
            return list(self._server._received)

    def plan(self, *plans: Plan) -> None:
        """Queue plans for the next requests, in order."""
        with self._server._lock:
            self._server._plans.extend(plans)

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.kick_all()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
