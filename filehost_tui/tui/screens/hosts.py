"""Every host in use, in the hosts panel's order, scrolled with the keys: the main screen's panel
shows as many as fit and says how many more there are. The main screen feeds it each read."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from filehost_tui.disabled_hosts import how_to_enable
from filehost_tui.tui.queue_view import HostSummary
from filehost_tui.tui.widgets.hosts_panel import HostsPanel


class HostsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "close", id="filehost.hosts.close"),
        Binding("q,H", "close", "close", show=False, id="filehost.hosts.close_alt"),
    ]

    def __init__(
        self,
        config_file: Path,
        summaries: Mapping[str, HostSummary],
        speeds: Mapping[str, float],
        now: float,
    ) -> None:
        super().__init__()
        self.config_file = config_file
        self._first = (summaries, speeds, now)
        self._hint = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="hosts-dialog"):
            yield Label("Hosts", classes="dialog-title")
            with VerticalScroll(id="hosts-scroll"):
                yield HostsPanel(limited=False, id="all-hosts")
            yield Static("", id="hosts-hint", classes="dialog-hint")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.show(*self._first)
        self.query_one("#hosts-scroll").focus()  # up, down, pgup, pgdn, home, end scroll it

    def show(
        self, summaries: Mapping[str, HostSummary], speeds: Mapping[str, float], now: float
    ) -> None:
        self.query_one(HostsPanel).show(summaries, speeds, now)
        disabled = sorted(h for h, s in summaries.items() if s.disabled)
        hint = ""
        if disabled:
            hint = f"⊘ {', '.join(disabled)}: " + how_to_enable(
                disabled[0] if len(disabled) == 1 else "ID", self.config_file
            )
        if hint != self._hint:
            self._hint = hint
            self.query_one("#hosts-hint", Static).update(hint)

    def action_close(self) -> None:
        self.dismiss(None)
