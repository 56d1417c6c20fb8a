"""Everything about one upload: the full error, the link, times, attempts and the archive path."""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from filehost_tui.disabled_hosts import WAITING_DISABLED, how_to_enable, waiting_reason
from filehost_tui.engine.attempts import Attempts
from filehost_tui.engine.models import FileHostUpload
from filehost_tui.engine.volumes import sent_name, volume_name
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
    attempts: Attempts
    error_kind: str | None
    error_message: str | None
    url: str | None
    file_id: str | None
    archive: str | None
    created_ts: float
    started_ts: float | None
    finished_ts: float | None
    next_attempt_ts: float
    to_start: str | None = None
    """What the user must do before this upload can start (its host is disabled), or None."""
    volume: int = 0
    volumes: int = 0
    runner: str = ""
    """On a shared queue: the runner that holds or finished it, else the one it waits for."""

    @classmethod
    def from_row(
        cls,
        u: FileHostUpload,
        attempts: Attempts,
        disabled: Collection[str] = (),
        config_file: Path | None = None,
    ) -> UploadDetails:
        """`disabled`: hosts config.toml (at `config_file`) turns off."""
        to_start = None
        if waiting_reason(u.status, u.host_name, disabled):
            to_start = f"{u.host_name} is disabled: " + how_to_enable(u.host_name, config_file)
        return cls(
            id=u.id,
            item=u.item.name,
            path=u.item.path,
            kind=u.item.kind,
            host=u.host_name,
            status=u.status,
            uploaded=u.uploaded_bytes,
            total=u.total_bytes,
            attempts=attempts,
            error_kind=u.error_kind,
            error_message=u.error_message,
            url=u.download_url,
            file_id=u.file_id,
            archive=u.zip_path,
            created_ts=u.created_ts,
            started_ts=u.started_ts,
            finished_ts=u.finished_ts,
            next_attempt_ts=u.next_attempt_ts,
            to_start=to_start,
            volume=u.volume,
            volumes=u.volumes,
            runner=u.ran_by or u.runner,
        )

    def _volume_text(self) -> str:
        """Which volume, and the name the host got: the parts a downloader joins with `cat`."""
        whole = sent_name(self.kind, self.item, Path(self.path))
        name = volume_name(whole, self.volume, self.volumes)
        return f"{self.volume} of {self.volumes}: {name} (cat {whole}.* > {whole} joins them)"

    def _archive_text(self) -> str:
        """The archive is deleted once every host of the item is done; say so, not a dead path."""
        if not self.archive:
            return "-"
        return self.archive if os.path.exists(self.archive) else f"{self.archive} (deleted)"

    def _resend_note(self) -> str:
        """A paused upload starts again from the first byte (docs/architecture.md, 'Pause and
        drain'); one that had sent every byte may still get its link."""
        if self.status != "paused":
            return ""
        if 0 < self.total <= self.uploaded:
            return ", every byte sent: it may still get its link"
        return ", resume sends it again from the start"

    def lines(self, now: float) -> list[tuple[str, str]]:
        progress = f"{fmt.size(self.uploaded)} of {fmt.size(self.total)}"
        pct = fmt.percent(self.uploaded, self.total)
        rows = [
            ("item", f"{self.item} ({self.kind})"),
            ("path", self.path),
            *([("volume", self._volume_text())] if self.volumes else []),
            ("host", self.host),
            *([("runner", self.runner)] if self.runner else []),
            ("status", f"waiting: {WAITING_DISABLED}" if self.to_start else self.status),
            ("progress", f"{progress} {pct}{self._resend_note()}".strip()),
            ("attempts", attempts_text(self.attempts)),
            ("link", self.url or "-"),
            ("file id", self.file_id or "-"),
            ("archive", self._archive_text()),
            ("created", fmt.timestamp(self.created_ts)),
            ("started", fmt.timestamp(self.started_ts)),
            ("finished", fmt.timestamp(self.finished_ts)),
        ]
        if self.to_start:
            rows.append(("to start", self.to_start))
        elif self.status == "pending" and self.next_attempt_ts > now:
            when = fmt.timestamp(self.next_attempt_ts)
            rows.append(("next try", f"{when} (in {fmt.countdown(self.next_attempt_ts - now)})"))
        if self.error_kind or self.error_message:
            rows.append(("error", f"{self.error_kind or ''}: {self.error_message or ''}".strip()))
        return [(label, printable(value)) for label, value in rows]


def attempts_text(a: Attempts) -> str:
    """'2 (1 automatic retry)'; after a retry by hand, what came before it and what since."""
    automatic = _count(a.automatic, "automatic retry", "automatic retries")
    if not a.earlier:
        return f"{a.since} ({automatic})" if a.since else "none yet"
    since = f"{a.since} since ({automatic})" if a.since else "none since"
    return f"{a.total} in all: {a.earlier} before the retry by hand, {since}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n or 'no'} {one if n == 1 else many}"


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
