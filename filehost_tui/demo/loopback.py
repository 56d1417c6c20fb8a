"""What every loopback HTTP server of the project shares: the fake hosts and the transfer tests'.

Faults are made at the TCP level (a reset is a linger-0 close, so the client sees an RST and not
a clean end of stream), a stopping server must wake handler threads blocked in reads, and
`100 Continue` waits for the first body read so that an early answer goes out without one, as a
server that checks the headers first does.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[LoopbackHandler]) -> None:
        self.stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, handler)

    def track(self, conn: socket.socket, *, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def close_connections(self) -> None:
        """Wake handler threads blocked on reads (idle keep-alive, half-sent bodies)."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class LoopbackHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackHTTPServer

    def setup(self) -> None:
        super().setup()
        self._expect_continue = False
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        self.server.track(self.connection, add=False)
        with contextlib.suppress(OSError, ValueError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the demo's terminal and test output belong to someone else."""

    def handle_expect_100(self) -> bool:
        self._expect_continue = True  # sent on the first body read, so early answers skip it
        return True

    def send_continue(self) -> None:
        if self._expect_continue:
            self._expect_continue = False
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()

    def reset(self) -> None:
        """Abort with a TCP RST: linger 0, then close the socket under the client's feet."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.connection.close()
            self.rfile.close()
