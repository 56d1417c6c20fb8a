"""The runners panel: the runners on the database, one line each — where it runs, whether it is
alive (running, stale: its heartbeat stopped, stopped), its transfers and speed. Shown once the
queue is shared by more than one runner (docs/architecture.md, 'Runners').

Runners are never forgotten, so stopped ones pile up: live ones come first (running, then stale,
then stopped, each newest heartbeat first), and when they do not all fit, the last line says how
many more there are."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import Static

from filehost_tui.engine.runners import HEARTBEAT_EVERY_S, RunnerInfo
from filehost_tui.printable import printable
from filehost_tui.tui import format as fmt

HEADER = f"{'runner':<12} {'machine':<14} {'state':<8} {'act':>4} {'speed':>8}  heartbeat"
STATE_MARK = {"running": "●", "stale": "?", "stopped": "○"}  # words too: colour is lost on NO_COLOR
STATE_ORDER = {"running": 0, "stale": 1, "stopped": 2}
ROOM = 4
"""Runner lines under the header (the panel's max-height in styles/app.tcss is one more)."""


def shown_lines(runners: Sequence[RunnerInfo], now: float) -> list[str]:
    """The lines under the header: the first runners in order, then "+N more" if any is left."""
    ordered = sorted(runners, key=lambda r: (STATE_ORDER.get(r.state, 3), -r.heartbeat_ts, r.name))
    if len(ordered) <= ROOM:
        return [runner_line(r, now) for r in ordered]
    hidden = ordered[ROOM - 1 :]
    running = sum(r.state == "running" for r in hidden)
    also = f", {running} running" if running else ""
    more = f"+{len(hidden)} more runner(s){also}: `filehost-tui status` lists every one"
    return [*(runner_line(r, now) for r in ordered[: ROOM - 1]), more]


def runner_line(r: RunnerInfo, now: float) -> str:
    # in whole heartbeats: the line changes every few seconds, not at every read
    age = (max(0.0, now - r.heartbeat_ts) // HEARTBEAT_EVERY_S) * HEARTBEAT_EVERY_S
    beat = f"{fmt.countdown(age)} ago" if age else "just now"
    speed = fmt.speed(r.bytes_per_s) if r.state == "running" else ""
    return (
        f"{printable(r.name)[:12]:<12} {printable(r.machine)[:14]:<14} "
        f"{STATE_MARK.get(r.state, ' ')} {r.state:<6} {r.active:>4} {speed:>8}  {beat}"
    )


class RunnersPanel(Static):
    """Plain text, rewritten only when it changes (an update re-lays the screen out)."""

    can_focus = False

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self._text = ""

    def show(self, runners: Sequence[RunnerInfo], now: float) -> None:
        text = "\n".join([HEADER, *shown_lines(runners, now)])
        if text != self._text:
            self._text = text
            self.update(text)
