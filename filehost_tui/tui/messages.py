"""Textual messages: engine events wrapped for the UI, and results of the app's own thread workers.

The engine calls the sink from its worker threads; post_message is thread-safe, so events travel as
messages and nothing in a transfer thread ever waits for the UI. High-rate messages (progress,
bandwidth) say can_replace, so a newer one supersedes a queued older one for the same upload/host.
None bubbles: each is posted to the node that handles it (most to the main screen).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from filehost_tui.engine.events import (
    BandwidthUpdated,
    DatabaseTrouble,
    Event,
    UploadCompleted,
    UploadFailed,
    UploadProgress,
    UploadStarted,
)
from filehost_tui.engine.runners import RunnerInfo
from filehost_tui.tui.queue_view import HostSummary, UploadRow
from filehost_tui.tui.widgets.bandwidth import Span

if TYPE_CHECKING:
    from filehost_tui.engine.engine import Engine


@dataclass(frozen=True)
class Live:
    """What the engine knows and the database does not yet: phase and speed of a transfer."""

    uploaded: int
    total: int
    bytes_per_s: float
    phase: str = "uploading"


class UploadChanged(Message, bubble=False):
    """An upload started, completed or failed: its row is re-read from the database."""

    def __init__(self, event: UploadStarted | UploadCompleted | UploadFailed) -> None:
        super().__init__()
        self.event = event


class DatabaseTroubleChanged(Message, bubble=False):
    """The engine cannot write the database (or can again): the user must hear of it."""

    def __init__(self, event: DatabaseTrouble) -> None:
        super().__init__()
        self.event = event


class ProgressUpdated(Message, bubble=False):
    def __init__(self, event: UploadProgress) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, ProgressUpdated) and message.event.upload_id == self.event.upload_id
        )


class BandwidthChanged(Message, bubble=False):
    def __init__(self, event: BandwidthUpdated) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BandwidthChanged) and message.event.host == self.event.host


def to_message(event: Event) -> Message:
    if isinstance(event, UploadProgress):
        return ProgressUpdated(event)
    if isinstance(event, BandwidthUpdated):
        return BandwidthChanged(event)
    if isinstance(event, DatabaseTrouble):
        return DatabaseTroubleChanged(event)
    return UploadChanged(event)


class QueueRead(Message, bubble=False):
    """A database read finished (posted from a thread worker)."""

    def __init__(
        self,
        rows: list[UploadRow],
        hosts: dict[str, HostSummary],
        live: dict[int, Live] | None,
        host_speed: dict[str, float] | None,
        now: float,
        full: bool = False,
        seq: int = 0,
    ) -> None:
        super().__init__()
        self.rows = rows
        self.hosts = hosts
        self.live = live
        self.host_speed = host_speed
        self.now = now
        self.full = full
        self.seq = seq
        """The change number the rows are current to: the next read asks for rows after it."""


class RunnersRead(Message, bubble=False):
    """Every runner on the database, read with the queue (posted from a thread worker)."""

    def __init__(self, runners: list[RunnerInfo], now: float) -> None:
        super().__init__()
        self.runners = runners
        self.now = now


class HistoryRead(Message, bubble=False):
    """Finished uploads outside the window: an older page (`older`), or what the `/` filter
    `text` found in history."""

    def __init__(self, rows: list[UploadRow], *, older: bool = False, text: str = "") -> None:
        super().__init__()
        self.rows = rows
        self.older = older
        self.text = text


class BandwidthRead(Message, bubble=False):
    def __init__(self, series: list[float], peak: float, span: Span) -> None:
        super().__init__()
        self.series = series
        self.peak = peak
        self.span = span


class ActionDone(Message, bubble=False):
    """A user action went through the control plane (or was refused, with the reason)."""

    def __init__(self, action: str, upload_ids: tuple[int, ...], result: str, ok: bool) -> None:
        super().__init__()
        self.action = action
        self.upload_ids = upload_ids
        self.result = result
        self.ok = ok


class EngineReady(Message, bubble=False):
    """Posted after the engine's start() queued its loops as workers: by the time this is handled,
    they are registered, so the app shows the engine only once its workers are there."""

    def __init__(
        self,
        error: str | None = None,
        runner_pid: int | None = None,
        engine: Engine | None = None,
    ) -> None:
        super().__init__()
        self.error = error
        self.runner_pid = runner_pid
        self.engine = engine


class EngineStopped(Message, bubble=False):
    pass
