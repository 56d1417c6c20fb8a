"""Total upload speed over the last minutes as a sparkline, with the current and peak figures and
the whole queue's time left.

The series comes from the metrics store's bandwidth samples, so it survives restarts and shows what
a runner in another process did too. Its span fits the history: a session 40 s old is drawn over
1 minute, not squeezed into the last bars of ten (docs/architecture.md, 'Metrics').
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Sparkline

from filehost_tui.engine.engine import SAMPLE_EVERY_S
from filehost_tui.tui import format as fmt

SPANS_S = (30, 60, 120, 300, 600)
"""The spans the sparkline can show; the shortest one that holds the history is used."""
MAX_BUCKETS = 60
BUCKET_PER_SAMPLE = 1.5
"""A bucket is wider than the sampling interval, so steady traffic never shows a bucket that
missed its sample as a dip to zero."""


@dataclass(frozen=True)
class Span:
    seconds: int
    buckets: int

    @property
    def label(self) -> str:
        return f"{self.seconds}s" if self.seconds < 60 else f"{self.seconds // 60}m"


def sparkline_span(first_sample_ts: float | None, now: float) -> Span:
    """The span for a history whose oldest sample (within the longest span) is at
    `first_sample_ts`, or None when there is none."""
    age = 0.0 if first_sample_ts is None else now - first_sample_ts
    seconds = next((s for s in SPANS_S if s >= age), SPANS_S[-1])
    return Span(seconds, min(MAX_BUCKETS, int(seconds / (SAMPLE_EVERY_S * BUCKET_PER_SAMPLE))))


FIRST_SPAN = sparkline_span(None, 0.0)


class BandwidthPanel(Horizontal):
    can_focus = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.current = 0.0
        self.peak = 0.0
        self.eta: float | None = None
        self._figures = ""

    def compose(self) -> ComposeResult:
        yield Label(f"speed {FIRST_SPAN.label}", classes="bw-title", id="bw-title")
        yield Sparkline([0.0] * FIRST_SPAN.buckets, summary_function=max, id="bw-spark")
        yield Label("", id="bw-figures")

    def on_mount(self) -> None:
        self._show_figures()

    def show_series(self, series: Sequence[float], peak: float, span: Span) -> None:
        self.query_one("#bw-title", Label).update(f"speed {span.label}")
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
        text = f"now {now:>8}  peak {peak:>8}  ETA {eta:>5}"
        if text != self._figures:  # an update re-lays the screen out, even with the same text
            self._figures = text
            self.query_one("#bw-figures", Label).update(text)
