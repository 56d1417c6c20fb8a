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
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from filehost_tui.demo.body import CHUNK, BodyReader, ClientGone
from filehost_tui.demo.loopback import LoopbackHandler, LoopbackHTTPServer
from filehost_tui.demo.multipart import MultipartData, boundary_of, parse_multipart


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


def _parts(form: MultipartData) -> tuple[Part, ...]:
    """The demo's parser keeps fields and files apart: fields come first here, in their order."""
    fields = (
        Part(name, None, len(raw := value.encode()), hashlib.md5(raw).hexdigest(), value)
        for name, value in form.fields.items()
    )
    files = (Part(f.field, f.filename, f.size, f.md5, None) for f in form.files)
    return (*fields, *files)


class _Handler(LoopbackHandler):
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
        super().setup()

    def finish(self) -> None:
        super().finish()
        if self.server.tls is not None:
            self.request.close()  # socketserver closes the raw socket, which TLS detached

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
        body = BodyReader(
            self.rfile,
            length=length,
            chunked=False,
            throttle=lambda: plan.read_bps,
            stopping=self.server.stopping,
        )
        if plan.invite:
            self.send_continue()
        limit = min(x for x in (length, plan.stall_after, plan.reset_after) if x is not None)
        md5 = hashlib.md5()

        def read(n: int) -> bytes:
            data = body.read(min(n, limit - body.count)) if body.count < limit else b""
            md5.update(data)
            return data

        boundary = boundary_of(self.headers.get("Content-Type"))
        parts: tuple[Part, ...] = ()
        with contextlib.suppress(ClientGone):  # cut short (a planned stall or reset): no parts
            if boundary is not None:
                parts = _parts(parse_multipart(read, boundary))
        with contextlib.suppress(ClientGone):  # the client left
            while read(CHUNK):
                pass
        got = Received(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            size=body.count,
            md5=md5.hexdigest(),
            parts=parts,
            peer=self.client_address[:2],
        )
        self.server.record(got)
        if plan.reset_after is not None and body.count >= plan.reset_after:
            self.reset()
            return None
        if plan.stall_after is not None and body.count >= plan.stall_after:
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
            self.reset()
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


class _Server(LoopbackHTTPServer):
    allow_reuse_address = False

    def __init__(self, tls: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tls = tls
        self._lock = threading.Lock()
        self._plans: deque[Plan] = deque()
        self._received: list[Received] = []

    def next_plan(self) -> Plan:
        with self._lock:
            return self._plans.popleft() if self._plans else Plan()

    def record(self, got: Received) -> None:
        with self._lock:
            self._received.append(got)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # failed handshakes and client aborts are what these tests provoke


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
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
