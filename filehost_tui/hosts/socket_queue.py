"""How many bytes written to a socket the peer has not yet taken: the kernel's send queue.

Why: libcurl counts a body's bytes as uploaded once they are written to the socket, and the
kernel's send buffer takes megabytes at once (4 MiB by default on Linux). Behind a slow link or a
throttling host, a whole small file reads as "sent" in an instant and then waits; the meter would
show a burst of tens of MB/s and then nothing. Bytes written minus this queue are the bytes the
host received, which is what the meter, the percentages and the ETA count
(docs/architecture.md, 'The speed meter').
"""

from __future__ import annotations

import struct

try:
    import fcntl
    import termios

    _OUTQ: int | None = termios.TIOCOUTQ  # SIOCOUTQ on Linux: bytes not acknowledged by the peer
except (ImportError, AttributeError):  # no such query here: trust the bytes written
    _OUTQ = None

_INT = struct.Struct("i")
_ZERO = bytes(_INT.size)


def unsent_bytes(fd: int) -> int:
    """Bytes in `fd`'s send queue; 0 when unknown (no socket yet, closed, or no such query)."""
    if fd < 0 or _OUTQ is None:
        return 0
    try:
        return max(0, _INT.unpack(fcntl.ioctl(fd, _OUTQ, _ZERO))[0])
    except OSError:
        return 0
