"""Everything about one upload: the full error, the link, times, attempts and the archive path."""

from __future__ import annotations

import os
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from filehost_tui.engine.models import FileHostUpload
from filehost_tui.printable import printable
from filehost_tui.tui import format as fmt
from filehost_tui.tui.clipboard import send_link


@dataclass(frozen=True)
class UploadDetails:
    id: int
    item: str
    path: str
    kind: str
    host: str
    status: str
    uploaded: int
    total: int
    retries: int
    attempts: int
    error_kind: str | None
    error_message: str | None
    url: str | None
    file_id: str | None
    archive: str | None
    created_ts: float
    started_ts: float | None
    finished_ts: float | None
    next_attempt_ts: float

    @classmethod
    def from_row(cls, u: FileHostUpload) -> UploadDetails:
        return cls(
            id=u.id,
            item=u.item.name,
            path=u.item.path,
            kind=u.item.kind,
            host=u.host_name,
            status=u.status,
            uploaded=u.uploaded_bytes,
            total=u.total_bytes,
            retries=u.retry_count,
            attempts=u.retry_count + (1 if u.started_ts else 0),
            error_kind=u.error_kind,
            error_message=u.error_message,
            url=u.download_url,
            file_id=u.file_id,
            archive=u.zip_path,
            created_ts=u.created_ts,
            started_ts=u.started_ts,
            finished_ts=u.finished_ts,
            next_attempt_ts=u.next_attempt_ts,
        )

    def _archive_text(self) -> str:
        """The archive is deleted once every host of the item is done; say so, not a dead path."""
        if not self.archive:
            return "-"
        return self.archive if os.path.exists(self.archive) else f"{self.archive} (deleted)"

    def lines(self, now: float) -> list[tuple[str, str]]:
        progress = f"{fmt.size(self.uploaded)} of {fmt.size(self.total)}"
        pct = fmt.percent(self.uploaded, self.total)
        rows = [
            ("item", f"{self.item} ({self.kind})"),
            ("path", self.path),
            ("host", self.host),
            ("status", self.status),
            ("progress", f"{progress} {pct}".strip()),
            ("attempts", f"{self.attempts} ({self.retries} retries)"),
            ("link", self.url or "-"),
            ("file id", self.file_id or "-"),
            ("archive", self._archive_text()),
            ("created", fmt.timestamp(self.created_ts)),
            ("started", fmt.timestamp(self.started_ts)),
            ("finished", fmt.timestamp(self.finished_ts)),
        ]
        if self.status == "pending" and self.next_attempt_ts > now:
            when = fmt.timestamp(self.next_attempt_ts)
            rows.append(("next try", f"{when} (in {fmt.countdown(self.next_attempt_ts - now)})"))
        if self.error_kind or self.error_message:
            rows.append(("error", f"{self.error_kind or ''}: {self.error_message or ''}".strip()))
        return [(label, printable(value)) for label, value in rows]


class DetailsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "close", id="filehost.details.close"),
        Binding("q,enter", "close", "close", show=False, id="filehost.details.close_alt"),
        Binding("y", "copy_link", "copy link", id="filehost.details.copy"),
    ]

    def __init__(self, details: UploadDetails, now: float) -> None:
        super().__init__()
        self.details = details
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="details-dialog"):
            yield Label(f"Upload {self.details.id}", classes="dialog-title")
            with VerticalScroll(id="details-body"):
                for label, value in self.details.lines(self.now):
                    text = Text.assemble((f"{label:>9}  ", "bold"), value)
                    yield Static(text, classes=f"detail detail-{label.replace(' ', '-')}")
        yield Footer(compact=True)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_link(self) -> None:
        if not self.details.url:
            self.notify(f"{self.details.item} has no link yet", severity="warning")
            return
        send_link(self, self.details.url)
