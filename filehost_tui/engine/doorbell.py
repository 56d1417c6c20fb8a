"""A cross-process wake-up: `add`, `cancel` or `pause` from the CLI ring the running runner's bell,
so new work reaches the wire at once and control takes effect at once, without a polling loop.

Linux abstract-namespace datagram socket named after the database path: nothing on disk to clean
up, no path-length limit. Where it is unavailable, ringing is a no-op and the runner's periodic
control-plane check still picks the change up.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
from collections.abc import Callable

from filehost_tui.paths import AppPaths


def _address(paths: AppPaths) -> str:
    digest = hashlib.sha256(str(paths.database.resolve()).encode()).hexdigest()[:24]
    return f"\0filehost-tui-{digest}"


def ring(paths: AppPaths) -> None:
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"!", _address(paths))


class Doorbell:
    """Listens for rings and calls `on_ring` from its own daemon thread."""

    def __init__(self, paths: AppPaths, on_ring: Callable[[], None]) -> None:
        self._on_ring = on_ring
        self._sock: socket.socket | None = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._sock.bind(_address(paths))
        except OSError:
            self._sock.close()
            self._sock = None
            return
        self._thread = threading.Thread(target=self._listen, name="doorbell", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        assert self._sock is not None
        while True:
            try:
                data = self._sock.recv(64)
            except OSError:
                return
            if data == b"stop":
                return
            self._on_ring()

    def close(self) -> None:
        if self._sock is None:
            return
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(b"stop", self._sock.getsockname())
        self._thread.join(timeout=2)
        self._sock.close()
        self._sock = None
