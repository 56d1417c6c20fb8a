"""Total upload speed over the last minutes as a sparkline, with the current and peak figures and
the whole queue's time left.

The series comes from the metrics store's bandwidth samples, so it survives restarts and shows what
a runner in another process did too.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Sparkline

from filehost_tui.tui import format as fmt

WINDOW_MINUTES = 10
BUCKETS = 60


class BandwidthPanel(Horizontal):
    can_focus = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.current = 0.0
        self.peak = 0.0
        self.eta: float | None = None
        self._figures = ""

    def compose(self) -> ComposeResult:
        yield Label(f"speed {WINDOW_MINUTES}m", classes="bw-title")
        yield Sparkline([0.0] * BUCKETS, summary_function=max, id="bw-spark")
        yield Label("", id="bw-figures")

    def on_mount(self) -> None:
        self._show_figures()

    def show_series(self, series: Sequence[float], peak: float) -> None:
        self.query_one(Sparkline).data = list(series) or [0.0]
        self.peak = max(peak, self.current)
        self._show_figures()

    def show_current(self, bytes_per_s: float) -> None:
        self.current = bytes_per_s
        self.peak = max(self.peak, bytes_per_s)
        self._show_figures()

    def show_eta(self, seconds: float | None) -> None:
        """The whole queue's time left at the speed now (None: nothing moves)."""
        self.eta = seconds
        self._show_figures()

    def _show_figures(self) -> None:
        now = fmt.speed(self.current) or "0B/s"
        peak = fmt.speed(self.peak) or "0B/s"
        eta = fmt.eta(self.eta) or "-"
        text = f"now {now:>7}  peak {peak:>7}  ETA {eta:>5}"
        if text != self._figures:  # an update re-lays the screen out, even with the same text
            self._figures = text
            self.query_one("#bw-figures", Label).update(text)
