"""Error values shared by the engine, host clients and the command line.

Failures are values with a kind (docs/host-specs.md, 'Error kinds') so that retry policy, metrics
and the user's sentence are decided in one place each, never by parsing message text.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    NETWORK = "network"
    TIMEOUT = "timeout"
    SERVER = "server"
    RATE_LIMITED = "rate_limited"
    AUTH = "auth"
    QUOTA = "quota"
    TOO_LARGE = "too_large"
    BAD_RESPONSE = "bad_response"
    NOT_FOUND = "not_found"
    CANCELLED = "cancelled"
    TLS = "tls"
    DISK_FULL = "disk_full"  # no room here (an archive in the cache): retried once space is free
    SOURCE_CHANGED = "source_changed"  # a file changed while it was sent: sent again from the start


RETRYABLE_KINDS = frozenset(
    {
        ErrorKind.NETWORK,
        ErrorKind.TIMEOUT,
        ErrorKind.SERVER,
        ErrorKind.RATE_LIMITED,
        ErrorKind.DISK_FULL,
        ErrorKind.SOURCE_CHANGED,
    }
)


class UploadError(Exception):
    """A failed upload step. `retry_after` is the host's own wait hint in seconds, if it gave one."""

    def __init__(self, kind: ErrorKind, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = ErrorKind(kind)
        self.message = message
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class UserError(Exception):
    """Bad usage or bad input: one line that says what to do; the CLI exits 2 with it."""
