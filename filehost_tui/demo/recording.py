"""What a fake host saw: completed uploads, logins, upload attempts and a request log.

Tests assert on these ("received each file at most twice", "logged in again after a stale token"),
often while client threads are still running, so every read returns a copy taken under a lock and
waiting for a count uses a condition instead of sleeping.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReceivedFile:
    """A completed upload. `fields` are the other form fields sent with it (secrets included)."""

    name: str
    size: int
    md5: str
    fields: dict[str, str] = field(default_factory=dict)
    field_name: str = ""  # multipart field that carried the file ("" for raw PUT bodies)


@dataclass(frozen=True)
class RequestRecord:
    """One answered request. `path` never includes the query string (it may carry secrets)."""

    method: str
    path: str
    step: str
    status: int  # 0 when the connection was reset or stalled instead of answered


class Recorder:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._received: list[ReceivedFile] = []
        self._requests: list[RequestRecord] = []
        self._logins = 0
        self._attempts = 0
        self._in_flight: set[socket.socket] = set()
        self._most_in_flight = 0
        self._connections_opened = 0
        self._connections_open = 0

    def add_file(self, received: ReceivedFile) -> None:
        with self._cond:
            self._received.append(received)
            self._cond.notify_all()

    def add_login(self) -> None:
        with self._cond:
            self._logins += 1
            self._cond.notify_all()

    def add_attempt(self, conn: socket.socket) -> None:
        """An upload request started on `conn`; `upload_ended(conn)` must follow, however it ends.

        Uploads whose client has already hung up count as ended even if their handler thread has
        not noticed yet: "at once" is about the client, not about how busy this server is."""
        with self._cond:
            self._attempts += 1
            self._in_flight.add(conn)
            self._most_in_flight = max(self._most_in_flight, self._connected())
            self._cond.notify_all()

    def upload_ended(self, conn: socket.socket) -> None:
        with self._cond:
            self._in_flight.discard(conn)
            self._cond.notify_all()

    @property
    def uploads_in_flight(self) -> int:
        with self._cond:
            return self._connected()

    def _connected(self) -> int:
        return sum(1 for conn in self._in_flight if _client_connected(conn))

    @property
    def most_uploads_at_once(self) -> int:
        with self._cond:
            return self._most_in_flight

    def connection(self, opened: bool) -> None:
        """A client connected (True) or its connection ended (False)."""
        with self._cond:
            self._connections_opened += opened
            self._connections_open += 1 if opened else -1
            self._cond.notify_all()

    @property
    def connections_opened(self) -> int:
        with self._cond:
            return self._connections_opened

    @property
    def connections_open(self) -> int:
        with self._cond:
            return self._connections_open

    def add_request(self, record: RequestRecord) -> None:
        with self._cond:
            self._requests.append(record)
            self._cond.notify_all()

    @property
    def received(self) -> list[ReceivedFile]:
        with self._cond:
            return list(self._received)

    @property
    def requests(self) -> list[RequestRecord]:
        with self._cond:
            return list(self._requests)

    @property
    def login_count(self) -> int:
        with self._cond:
            return self._logins

    @property
    def upload_attempts(self) -> int:
        with self._cond:
            return self._attempts

    def known_md5(self, md5: str) -> ReceivedFile | None:
        with self._cond:
            return next((r for r in self._received if r.md5 == md5.lower()), None)

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until `predicate()` (evaluated under the lock) holds; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True


_TCP_CLOSED_BY_PEER = (7, 8)  # TCP_CLOSE (reset), TCP_CLOSE_WAIT (the client sent FIN)


def _client_connected(conn: socket.socket) -> bool:
    """False once the client closed its end, even with unread bytes still buffered (Linux reads the
    TCP state; elsewhere every open socket counts as connected)."""
    try:
        info = conn.getsockopt(socket.IPPROTO_TCP, getattr(socket, "TCP_INFO", 11), 1)
    except OSError:
        return conn.fileno() != -1
    return info[0] not in _TCP_CLOSED_BY_PEER
