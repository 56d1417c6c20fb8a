"""`FakeHost`: one family's protocol served on 127.0.0.1 for tests and `filehost-tui demo`.

Usage::

    with FakeHost("rapidgator", credentials={"username": "u", "password": "p"}) as fake:
        fake.inject("status", status=503)          # the next upload request answers 503
        ...  # point the client at fake.base_url
        assert fake.received[0].md5 == expected

`options` pick one host's variant of a shared family, e.g. `FakeHost("xfs_session",
options={"captcha": True})`; each family's `defaults` lists the options it knows.

Fault kinds (`inject(kind, times=1, step=..., **params)`; by default they hit the upload request,
`garbage`/`no_link` hit the step carrying the link, `expired_token` the next token-using call):
status (status=500/503/429, retry_after=S), reset (after_bytes=N), stall (after_bytes=N),
early_413, garbage, no_link, expired_token, flood, rate_limit_body, throttle (bytes_per_s=N),
redirect (status=302, to=PATH: a 3xx whose body is a link, as a moved or logged-out host sends),
processing (rapidgator: upload_info says "still processing"), quota,
reply (status=N, body=..., content_type=...: exactly that answer, e.g. a link or an echo).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from filehost_tui.demo.families import FAMILIES, HostContext
from filehost_tui.demo.faults import Fault, FaultQueue
from filehost_tui.demo.handler import FakeHTTPServer
from filehost_tui.demo.recording import ReceivedFile, Recorder, RequestRecord

STOP_JOIN_S = 1.0


class FakeHost:
    """One family per server; a context manager. Thread-safe; every getter returns a copy."""

    def __init__(self, family: str, *, credentials: Mapping[str, str] | None = None,
                 throttle_bps: int = 0, host: str = "127.0.0.1", port: int = 0,
                 options: Mapping[str, Any] | None = None) -> None:  # fmt: skip
        if family not in FAMILIES:
            raise ValueError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
        self.family = family
        self._address = (host, port)
        self._recorder = Recorder()
        self._ctx = HostContext(
            dict(credentials) if credentials is not None else None,
            self._recorder,
            options=dict(options or {}),
        )
        self._impl = FAMILIES[family](self._ctx)
        self._faults = FaultQueue(
            link_step=self._impl.link_step, token_steps=self._impl.token_steps
        )
        self._initial_throttle = throttle_bps
        self._server: FakeHTTPServer | None = None
        self._errors: list[str] = []
        self._thread: threading.Thread | None = None

    # Lifecycle.
    def start(self) -> FakeHost:
        if self._server is not None:
            return self
        rcvbuf = (
            max(16 * 1024, min(256 * 1024, self._initial_throttle // 4))
            if self._initial_throttle
            else 0
        )
        server = FakeHTTPServer(self._address, self._impl, self._faults, self._recorder, rcvbuf)
        server.throttle_bps = self._initial_throttle
        server.errors = self._errors
        host, port = server.server_address[:2]
        self._ctx.base_url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"fake-{self.family}-{port}", daemon=True,
        )  # fmt: skip
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; returns promptly even with stalled or idle connections open."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(STOP_JOIN_S)

    def __enter__(self) -> FakeHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Where it listens.
    @property
    def base_url(self) -> str:
        if not self._ctx.base_url:
            raise RuntimeError("FakeHost.base_url is known once start() has bound the port")
        return self._ctx.base_url

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    # Faults and throttle.
    def inject(self, kind: str, *, times: int = 1, **params: Any) -> None:
        """Queue a fault for the next `times` matching requests (see the module docstring)."""
        self._faults.add(kind, times, **params)

    def pending_faults(self) -> list[Fault]:
        return self._faults.pending()

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def throttle_bps(self) -> int:
        return self._server.throttle_bps if self._server else self._initial_throttle

    @throttle_bps.setter
    def throttle_bps(self, value: int) -> None:
        self._initial_throttle = value
        if self._server is not None:
            self._server.throttle_bps = value

    # What it saw.
    @property
    def received(self) -> list[ReceivedFile]:
        return self._recorder.received

    @property
    def login_count(self) -> int:
        return self._recorder.login_count

    @property
    def upload_attempts(self) -> int:
        return self._recorder.upload_attempts

    @property
    def uploads_in_flight(self) -> int:
        """Upload requests being received right now."""
        return self._recorder.uploads_in_flight

    @property
    def most_uploads_at_once(self) -> int:
        """The most upload requests this fake was receiving at the same moment."""
        return self._recorder.most_uploads_at_once

    @property
    def connections_opened(self) -> int:
        """TCP connections clients opened to this fake since it started (keep-alive reuse shows
        as fewer connections than requests)."""
        return self._recorder.connections_opened

    def wait_for_connections_closed(self, timeout: float = 30.0) -> bool:
        """Until no client holds a connection open (their handles were closed)."""
        return self._recorder.wait_for(lambda: self._recorder.connections_open == 0, timeout)

    @property
    def requests(self) -> list[RequestRecord]:
        return self._recorder.requests

    @property
    def errors(self) -> list[str]:
        """Tracebacks of unexpected exceptions inside the fake (should stay empty)."""
        return list(self._errors)

    def wait_for_received(self, count: int, timeout: float = 30.0) -> bool:
        return self._recorder.wait_for(lambda: len(self._recorder.received) >= count, timeout)

    def wait_for_attempts(self, count: int, timeout: float = 30.0) -> bool:
        return self._recorder.wait_for(lambda: self._recorder.upload_attempts >= count, timeout)


__all__ = ["FAMILIES", "FakeHost", "Fault", "ReceivedFile", "RequestRecord"]
