"""How often engine progress reaches the uploads table: at most once per interval, all at once.

Why: any DataTable.update_cell bumps the table's update count, which every cached line and cell
render is keyed on, so the next paint renders every visible row again (about 35 ms of CPU at
160x48, 50 ms with 10,000 rows, where the row offsets are rebuilt too). The engine sends a
progress event per upload every 0.25 s; applying each burst as it came meant 4-5 full repaints a
second while uploading, most of the event loop's work, and key presses waited behind them. Now
the table gets the newest held value of every upload that moved once per interval (1 s by
default); with the once-a-second database read, which brings the engine's own snapshot, the cells
still change about twice a second, and no value shown is older than about a second.

Driven by the messages themselves, not a timer: the first event after a quiet interval is shown at
once, and while uploads run the next event after the interval hands over everything held. When
they stop, the read that follows (an upload that ends triggers one) supersedes what was held.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from filehost_tui.tui.messages import Live


class ProgressThrottle:
    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._pending: dict[int, Live] = {}
        self._last: float | None = None

    def offer(self, upload_id: int, live: Live) -> dict[int, Live]:
        """Hold `live`; return what the table should show now (empty while the interval runs)."""
        self._pending[upload_id] = live
        now = self._clock()
        if self._last is not None and 0 <= now - self._last < self.interval:
            return {}
        return self._hand_over(now)

    def superseded(self) -> None:
        """The table just got a fresh snapshot of every transfer: what is held is older."""
        self._pending.clear()

    def forget(self, upload_id: int) -> None:
        """The upload ended: a held value must not bring its speed back."""
        self._pending.pop(upload_id, None)

    def _hand_over(self, now: float) -> dict[int, Live]:
        due, self._pending = self._pending, {}
        self._last = now
        return due
