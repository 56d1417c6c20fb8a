"""The hosts panel: one line per host in use — transfer progress, speed, counts, and trouble."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, ProgressBar, Static

from filehost_tui.engine.eta import eta_seconds
from filehost_tui.tui import format as fmt
from filehost_tui.tui.queue_view import HostSummary

HEADER = (
    f"{'host':<10} {'active transfers':<18} {'speed':>7} {'ETA':>5} "
    f"{'act':>4} {'que':>4} {'done':>4} {'fail':>4}"
)


def counts_text(s: HostSummary) -> str:
    return f"{s.active:>4} {s.queued:>4} {s.done:>4} {s.failed:>4}"


def marker_text(s: HostSummary, now: float) -> str:
    """Why a host is not simply working, in words (colour alone is lost under NO_COLOR)."""
    if s.auth_failing:
        return "✗ auth failing"
    if s.backoff_until is not None and s.backoff_until > now:
        return f"⟳ backoff {fmt.countdown(s.backoff_until - now)}"
    if s.is_paused:
        return "⏸ paused"
    return ""


class HostLine(Horizontal):
    def __init__(self, host: str) -> None:
        super().__init__(id=f"host-{host}", classes="host-line")
        self.host = host
        self._shown: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Label(self.host[:10], classes="host-name")
        yield ProgressBar(total=1, show_eta=False, classes="host-bar")
        yield Label("", classes="host-speed")
        yield Label("", classes="host-eta")
        yield Label("", classes="host-counts")
        yield Label("", classes="host-marker")

    def show(self, s: HostSummary, bytes_per_s: float, now: float) -> None:
        """Only what changed is updated: a label's update re-lays the screen out even when its
        text is the same, which kept an idle app busy every second."""
        self.query_one(ProgressBar).update(
            total=max(1, s.active_total), progress=min(s.active_uploaded, max(1, s.active_total))
        )
        marker = marker_text(s, now)
        texts = {
            ".host-speed": fmt.speed(bytes_per_s),
            ".host-eta": fmt.eta(eta_seconds(s.bytes_left, bytes_per_s) if s.bytes_left else None),
            ".host-counts": counts_text(s),
            ".host-marker": marker,
        }
        for selector, text in texts.items():
            if self._shown.get(selector) != text:
                self._shown[selector] = text
                self.query_one(selector, Label).update(text)
        self.set_class(bool(marker), "-trouble")


class HostsPanel(VerticalScroll):
    """Lines appear when a host first has uploads; they are updated in place after that."""

    can_focus = False

    def compose(self) -> ComposeResult:
        yield Static(HEADER, classes="hosts-header")
        yield Static("no uploads yet: press a to add files", id="hosts-empty")

    def show(
        self, summaries: Mapping[str, HostSummary], speeds: Mapping[str, float], now: float
    ) -> None:
        self.query_one("#hosts-empty").display = not summaries
        lines = {line.host: line for line in self.query(HostLine)}
        for host in sorted(summaries):
            line = lines.get(host)
            if line is None:
                line = HostLine(host)
                self.mount(line)
                line.call_after_refresh(line.show, summaries[host], speeds.get(host, 0.0), now)
            else:
                line.show(summaries[host], speeds.get(host, 0.0), now)
