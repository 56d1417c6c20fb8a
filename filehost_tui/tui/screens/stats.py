"""Statistics per host for a period (session, 24h, 7d, 30d, all), read from the metrics store."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, Tab, Tabs

from filehost_tui.engine.metrics_store import PERIODS, HostStats
from filehost_tui.tui import format as fmt

COLUMNS = ("host", "files", "failed", "bytes", "avg/s", "peak/s", "ok%")
WIDTHS = {"host": 12, "avg/s": 8, "peak/s": 8}
"""Speeds take up to 8 characters ('999MiB/s'); every other figure fits in 7."""


def stats_cells(host: str, s: HostStats) -> tuple[str, ...]:
    rate = "-" if s.success_rate is None else f"{100 * s.success_rate:.0f}%"
    return (
        host,
        str(s.files),
        str(s.failed),
        fmt.size(s.bytes),
        fmt.speed(s.avg_bytes_per_s) or "-",
        fmt.speed(s.peak_bytes_per_s) or "-",
        rate,
    )


class StatsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "close", id="filehost.stats.close"),
        Binding("q,s", "close", "close", show=False, id="filehost.stats.close_alt"),
        Binding("left", "period(-1)", "prev period", id="filehost.stats.prev"),
        Binding("right,tab", "period(1)", "next period", id="filehost.stats.next"),
    ]

    def __init__(self, read: Callable[[str], dict[str, HostStats]], period: str = "session"):
        super().__init__()
        self.read = read
        self.period = period

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="stats-dialog"):
            yield Label("Statistics", classes="dialog-title")
            yield Tabs(*(Tab(p, id=f"period-{p}") for p in PERIODS), active=f"period-{self.period}")
            yield DataTable(id="stats-table", cursor_type="none")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name, width=WIDTHS.get(name, 7))
        self.query_one(Tabs).focus()
        self._load()

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab.id:
            self.period = event.tab.id.removeprefix("period-")
            self._load()

    def _load(self) -> None:
        stats = self.read(self.period)
        table = self.query_one(DataTable)
        table.clear()  # a different period is a different table, not an update of this one
        ordered = sorted(stats.items(), key=lambda kv: (kv[0] == "total", kv[0]))
        for host, s in ordered:
            table.add_row(*stats_cells(host, s), key=host)

    def action_period(self, step: int) -> None:
        i = (PERIODS.index(self.period) + step) % len(PERIODS)
        self.query_one(Tabs).active = f"period-{PERIODS[i]}"

    def action_close(self) -> None:
        self.dismiss(None)
