"""Plain events the engine reports (docs/architecture.md, 'Events').

The TUI wraps them in messages; the runner logs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class UploadStarted:
    upload_id: int
    item_id: int
    host: str


@dataclass(frozen=True)
class UploadProgress:
    upload_id: int
    item_id: int
    host: str
    uploaded: int
    total: int
    bytes_per_s: float


@dataclass(frozen=True)
class UploadCompleted:
    upload_id: int
    item_id: int
    host: str
    url: str
    file_id: str | None


@dataclass(frozen=True)
class UploadFailed:
    upload_id: int
    item_id: int
    host: str
    error_kind: str
    message: str
    will_retry: bool


@dataclass(frozen=True)
class BandwidthUpdated:
    """`host` is a host id, or None for the total over all hosts."""

    host: str | None
    bytes_per_s: float


@dataclass(frozen=True)
class DatabaseTrouble:
    """The database takes no writes (a full disk; on PostgreSQL, a server out of reach):
    `unsaved` finished uploads wait in memory for it. `message` None: it takes writes again."""

    message: str | None
    unsaved: int
    hint: str = ""  # what the user can do about it


Event = (
    UploadStarted
    | UploadProgress
    | UploadCompleted
    | UploadFailed
    | BandwidthUpdated
    | DatabaseTrouble
)


class EventSink(Protocol):
    def __call__(self, event: Event) -> None: ...
