"""The HTTP side of the fake hosts: one threaded loopback server per family, with fault injection.

The request handler routes to the family, applies any queued fault (the ones that only need HTTP
plumbing are handled here), streams bodies through `BodyReader` so uploads never sit in memory,
and always answers with a Content-Length so keep-alive clients stay in sync. It never logs.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
import traceback
from dataclasses import replace
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlsplit

from filehost_tui.demo.body import BodyReader, ClientGone
from filehost_tui.demo.exchange import (
    BadRequest,
    Reply,
    Request,
    html_reply,
    json_reply,
    text_reply,
)
from filehost_tui.demo.families.base import Family, Route
from filehost_tui.demo.faults import Fault, FaultQueue
from filehost_tui.demo.loopback import LoopbackHandler, LoopbackHTTPServer
from filehost_tui.demo.recording import Recorder, RequestRecord

DEFAULT_RESET_AFTER = 64 * 1024
EARLY_LINGER_S = 0.5


class _Abandon(Exception):
    """Leave the request without an answer (the socket was reset, or the client went away)."""


class FakeHTTPServer(LoopbackHTTPServer):
    """Holds what the handlers share: the family, faults, recorder, throttle and stop event."""

    block_on_close = False
    request_queue_size = 128  # many engine workers may connect at once

    def __init__(self, address: tuple[str, int], family: Family, faults: FaultQueue,
                 recorder: Recorder, rcvbuf: int = 0) -> None:  # fmt: skip
        self.family = family
        self.faults = faults
        self.recorder = recorder
        self.throttle_bps = 0
        self.errors: list[str] = []
        self._rcvbuf = rcvbuf
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, FakeRequestHandler)

    def server_bind(self) -> None:
        if self._rcvbuf:  # small receive window: the client's progress follows the throttle
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self._rcvbuf)
        super().server_bind()

    def track(self, conn: socket.socket, *, add: bool) -> None:
        super().track(conn, add=add)
        self.recorder.connection(add)  # the tests count the TCP connections a client opened

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.errors.append(traceback.format_exc())


class FakeRequestHandler(LoopbackHandler):
    server: FakeHTTPServer
    server_version = "FakeHost/1.0"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self._unrecorded: RequestRecord | None = None

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away between requests: not an error

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = lambda self: self._dispatch()  # noqa: E731

    def _body_reader(self) -> BodyReader:
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        length = None
        if not chunked and self.headers.get("Content-Length"):
            try:
                length = int(self.headers["Content-Length"])
            except ValueError:
                length = -1
            if length < 0:
                raise BadRequest("invalid Content-Length")
        return BodyReader(self.rfile, length=length, chunked=chunked, stopping=self.server.stopping,
                          throttle=lambda: self.server.throttle_bps, on_first_read=self.send_continue)  # fmt: skip

    def _dispatch(self) -> None:
        srv = self.server
        url = urlsplit(self.path)
        target = url.path + (f"?{url.query}" if url.query else "")
        found = srv.family.match(self.command, url.path, target)
        route, match = found if found else (None, None)
        step = route.step if route else "unknown"
        self._unrecorded = RequestRecord(self.command, url.path, step, 0)
        counted = False
        try:
            body = self._body_reader()
            query = dict(parse_qsl(url.query, keep_blank_values=True))
            req = Request(self.command, url.path, query, self.headers, body)
            if step == "upload":
                srv.recorder.add_attempt(self.connection)
                counted = True
            fault = srv.faults.take(step) if route else None
            reply = self._answer(route, match, req, fault)
            body.drain()
            self._send(reply)
        except BadRequest as exc:
            self._send(text_reply(f"Bad request: {exc}\n", 400), close=True)
        except (_Abandon, ClientGone, ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            srv.errors.append(traceback.format_exc())
            with contextlib.suppress(OSError):
                self._send(text_reply("Internal error in the fake host\n", 500), close=True)
        finally:
            if counted:
                srv.recorder.upload_ended(self.connection)
        self._record(0)  # abandoned requests are logged with status 0

    def _record(self, status: int) -> None:
        """Log the request once, before its answer leaves, so a client never outruns the log."""
        record, self._unrecorded = self._unrecorded, None
        if record is not None:
            self.server.recorder.add_request(replace(record, status=status))

    def _answer(self, route: Route | None, match: Any, req: Request, fault: Fault | None) -> Reply:
        """The reply for a routed request, after any fault that aborts the exchange instead."""
        if route is None:
            return text_reply("Not found\n", 404)
        if fault is None:
            return route.handler(req, match)
        if fault.kind == "throttle":
            bps = int(fault.param("bytes_per_s", 0))
            req.body.set_throttle(lambda: bps)  # this request only
            return route.handler(req, match)
        req.fault = fault
        if fault.kind in ("no_link", "processing"):
            return route.handler(req, match)  # the family answers "successfully", minus the link
        if fault.kind == "reset":
            self._read_up_to(req.body, int(fault.param("after_bytes", DEFAULT_RESET_AFTER)))
            self.reset()
            raise _Abandon
        if fault.kind == "stall":
            self._read_up_to(req.body, int(fault.param("after_bytes", 0)))
            self._stall()
        if fault.kind == "early_413":
            self._early_answer(self.server.family.too_large())
        return self._fault_reply(self.server.family, req, fault)

    def _fault_reply(self, family: Family, req: Request, fault: Fault) -> Reply:
        kind = fault.kind
        if kind == "expired_token":
            return family.stale_token(req)
        if kind == "quota":
            return family.quota_error(req)
        req.body.drain()  # the remaining kinds answer after the whole body, like a proxy would
        if kind == "garbage":
            return html_reply("<html>oops", int(fault.param("status", 200)))
        if kind == "flood":
            return text_reply("Flood detected: IP Locked #1", 403)
        if kind == "rate_limit_body":
            return json_reply({"status": "error-rateLimit", "data": {}})
        if kind == "redirect":
            location = family.base + str(fault.param("to", "/login"))
            status = int(fault.param("status", 302))
            return text_reply(f"{family.base}/f/moved\n", status, (("Location", location),))
        if kind == "reply":
            return _scripted_reply(fault)
        return _status_reply(fault)

    def _read_up_to(self, body: BodyReader, limit: int) -> None:
        while body.count < limit and body.read(min(256 * 1024, limit - body.count)):
            pass

    def _stall(self) -> NoReturn:
        self.server.stopping.wait()
        raise _Abandon

    def _early_answer(self, reply: Reply) -> NoReturn:
        """Answer before the body ends, then close (reading a little so the client sees it)."""
        self._send(reply, close=True)
        deadline = time.monotonic() + EARLY_LINGER_S
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_WR)
            while (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                if not self.connection.recv(256 * 1024):
                    break
        raise _Abandon

    def _send(self, reply: Reply, *, close: bool = False) -> None:
        self._expect_continue = False  # answering now: never send 100 afterwards
        self._record(reply.status)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        if close or self.server.stopping.is_set():
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)


def _scripted_reply(fault: Fault) -> Reply:
    """Exactly the answer a test wrote: what a host says that no family says by itself."""
    body = fault.param("body", "")
    return Reply(
        int(fault.param("status", 200)),
        body.encode() if isinstance(body, str) else body,
        fault.param("content_type", "text/plain; charset=utf-8"),
    )


def _status_reply(fault: Fault) -> Reply:
    retry_after = fault.param("retry_after")
    status = int(fault.param("status", 429 if retry_after is not None else 500))
    headers = (("Retry-After", str(retry_after)),) if retry_after is not None else ()
    body = {"status": "error", "code": status, "message": f"fake fault: HTTP {status}"}
    return Reply(status, json.dumps(body).encode(), "application/json", headers)
