"""Everything the app needs from the outside, in one value: stores, control plane, clock, and how
uploads run (in this process, or in a runner the app is attached to). Tests build one over a tmp
database with a fixed clock; launch.py builds the real one."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

import peewee

from filehost_tui.config import Config
from filehost_tui.disabled_hosts import disabled_hosts
from filehost_tui.engine.metrics_store import MetricsStore
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.paths import AppPaths

if TYPE_CHECKING:
    from filehost_tui.engine.control import Control
    from filehost_tui.engine.engine import Engine, Spawn
    from filehost_tui.engine.events import EventSink

Mode = Literal["in-process", "attached"]


class EngineFactory(Protocol):
    def __call__(self, *, sink: EventSink, spawn: Spawn) -> Engine: ...


@dataclass
class TuiSession:
    paths: AppPaths
    config: Config
    db: peewee.SqliteDatabase
    queue: QueueStore
    metrics: MetricsStore
    control: Control
    hosts: tuple[str, ...]
    """Enabled host ids, offered in the add dialog."""
    mode: Mode = "in-process"
    runner_pid: int | None = None
    runner_stopped: bool = False
    engine_factory: EngineFactory | None = None
    """Starts the workers: at once in in-process mode; in attached mode once the runner has
    stopped and the user asks to upload here. None: never (a test showing fixed data)."""
    engine_threads: int = 0
    """Threads the in-process engine holds for the whole session (see engine.engine_threads)."""
    clock: Callable[[], float] = field(default=time.time)
    cursor_blink: bool = True
    warnings: tuple[str, ...] = ()
    """Problems worth a notification at start (e.g. a user host spec that did not load)."""
    welcome: str | None = None
    """A note shown at start (the demo says which keys to try)."""
    poll_interval: float = 1.0
    """Seconds between database reads; 0 turns the timer off (tests refresh by hand)."""
    progress_interval: float = 1.0
    """Seconds between updates of the table from engine progress events (see progress_throttle)."""
    ui_clock: Callable[[], float] = field(default=time.monotonic)
    """Paces the table's progress updates; tests pass a clock they advance by hand."""
    show_runners: bool = False
    """The queue is shared by several runners (PostgreSQL, or more than one name has run on it):
    the main screen shows the runners panel and a runner column."""

    @property
    def disabled_hosts(self) -> frozenset[str]:
        """Hosts config.toml turns off: their uploads wait (see disabled_hosts.py)."""
        return disabled_hosts(self.config)

    @property
    def can_take_over(self) -> bool:
        """The runner this window watched has stopped, and this window can run the uploads."""
        return self.mode == "attached" and self.runner_stopped and self.engine_factory is not None

    @property
    def mode_label(self) -> str:
        if self.mode == "attached":
            pid = f"pid {self.runner_pid}" if self.runner_pid and self.runner_pid > 0 else "pid ?"
            if self.can_take_over:
                return f"runner ({pid}) stopped; press u to upload here"
            if self.runner_stopped:
                return f"runner ({pid}) stopped; restart filehost-tui to upload here"
            return f"attached to runner ({pid})"
        return "uploading in this window"
