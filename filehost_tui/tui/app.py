"""The App: starts the engine's workers (in-process mode) and stops them, reads the database about
once a second in a thread worker, and hands what it reads and what the engine reports to the main
screen as messages. The screens own their widgets and keys (screens/main.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from textual import work
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from filehost_tui.config import save_setting
from filehost_tui.engine.events import Event
from filehost_tui.engine.runner_lock import runner_pid
from filehost_tui.engine.runners import RunnerRegistry
from filehost_tui.errors import UserError
from filehost_tui.tui.bindings import KEYS, app_bindings, key_display, palette_action
from filehost_tui.tui.messages import (
    BandwidthRead,
    EngineReady,
    EngineStopped,
    Live,
    QueueRead,
    RunnersRead,
    to_message,
)
from filehost_tui.tui.queue_view import changed_rows, host_summaries, load_window
from filehost_tui.tui.resources import styles_dir
from filehost_tui.tui.screens import confirm_texts
from filehost_tui.tui.screens.confirm import ConfirmScreen
from filehost_tui.tui.screens.help import HelpScreen
from filehost_tui.tui.screens.main import MainScreen
from filehost_tui.tui.session import TuiSession
from filehost_tui.tui.widgets.bandwidth import SPANS_S, sparkline_span

BANDWIDTH_EVERY = 5  # polls between sparkline reads (samples are written every ~5 s)
STARTING = "starting uploads in this window…"


class FilehostApp(App[int]):
    CSS_PATH = str(styles_dir() / "app.tcss")
    TITLE = "filehost-tui"
    BINDINGS = app_bindings()

    def __init__(self, session: TuiSession) -> None:
        super().__init__()
        self.session = session
        self.clock = session.clock
        self.control = session.control
        self.main = MainScreen(session)
        self.engine = None  # shown to the rest of the app once its workers are registered
        self._engine = None  # owned from start() on: stopped at exit even if never shown
        self.loaded = False
        self._seq = 0
        self._reading = False
        self._read_again = False
        self._polls = 0
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._saved_theme = ""
        self.sub_title = session.mode_label

    @property
    def reading(self) -> bool:
        """A database read is under way or its rows are not on screen yet."""
        return self._reading

    def get_default_screen(self) -> Screen:
        return self.main

    def on_mount(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        for warning in self.session.warnings:
            self.notify(warning, severity="warning", timeout=10)
        if self.session.welcome:
            self.notify(self.session.welcome, timeout=20, markup=False)
        self._start_with_saved_theme()
        self.request_read()
        self.read_bandwidth()
        if self.session.poll_interval:
            self.set_interval(self.session.poll_interval, self._poll)
        if self.session.engine_factory is not None and self.session.mode == "in-process":
            self._start_workers()

    def _start_workers(self) -> None:
        # Connection threads and the ticker hold a pool thread each for the whole session;
        # asyncio's default pool (cpu+4 threads) would starve, so give the loop one that fits.
        assert self._loop is not None
        size = self.session.engine_threads + 8
        self._loop.set_default_executor(ThreadPoolExecutor(size, "filehost-tui"))
        self._start_engine()

    def take_over(self) -> None:
        """The runner this window watched has stopped: run the uploads here. The engine takes
        the runner lock as it starts; a runner that took it meanwhile wins, and is watched."""
        session = self.session
        if not session.can_take_over:
            why = "uploads already run here" if session.mode == "in-process" else "the runner runs"
            self.notify(f"nothing to take over: {why}", severity="warning")
            return
        session.mode, session.runner_stopped, session.runner_pid = "in-process", False, None
        self.sub_title = STARTING
        self.main.refresh_bindings()
        self._start_workers()

    def _poll(self) -> None:
        self._polls += 1
        self.request_read()
        if self._polls % BANDWIDTH_EVERY == 0:
            self.read_bandwidth()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette offers every key's action, then Textual's own (theme, keys, quit...)."""
        for key in KEYS:
            action = palette_action(key)
            target = self if action in ("quit", "help") else self.main
            yield SystemCommand(
                f"{key.label.capitalize()} ({key_display(key)})",
                key.help,
                lambda action=action, target=target: self.run_action(action, target),
            )
        yield SystemCommand("Toggle dark/light", "Switch between dark and light", self.toggle_dark)
        yield from super().get_system_commands(screen)

    def _start_with_saved_theme(self) -> None:
        """The theme picked last time (config.toml's [tui] theme); a new pick is saved there."""
        name = self.session.config.tui.theme
        if name in self.available_themes:
            self.theme = name
        elif name:
            self.notify(f"config.toml: theme {name!r} is not installed; using {self.theme}",
                        severity="warning", markup=False)  # fmt: skip
        self._saved_theme = self.theme
        self.theme_changed_signal.subscribe(self, self._save_theme)

    def _save_theme(self, theme: Theme) -> None:
        if theme.name == self._saved_theme:
            return
        try:
            save_setting(self.session.paths.config_file, "tui", "theme", theme.name)
        except (OSError, UserError) as exc:
            self.notify(f"theme not saved: {exc}", severity="warning", markup=False)
            return
        self._saved_theme = theme.name

    def toggle_dark(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        active = self.engine.active() if self.engine is not None else []
        running = len(active)
        if not running:
            self.stop_engine_then_exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.stop_engine_then_exit()

        sent = sum(a.uploaded for a in active)
        self.push_screen(ConfirmScreen(confirm_texts.quit_active(running, sent), "Quit"), answered)

    # ---- reading the database ---------------------------------------------------------------

    def request_read(self) -> None:
        """Read again now; while a read is running, one more follows it (never two at once)."""
        if self._reading:
            self._read_again = True
            return
        self._reading = True
        self._read_queue(not self.loaded, self._seq)

    def read_done(self, seq: int) -> None:
        """The main screen applied a read: the next one starts after its change number."""
        self._reading = False
        self.loaded = True
        self._seq = seq
        if self._read_again:
            self._read_again = False
            self.request_read()

    @work(thread=True, group="queue-read", exit_on_error=False)
    def _read_queue(self, full: bool, seq: int) -> None:
        now = self.clock()
        if full:
            rows, seq = load_window(self.session.config.tui.history_rows)
        else:
            rows, seq = changed_rows(seq)
        hosts = host_summaries(now, self.session.disabled_hosts)
        live = speeds = None
        engine = self.engine
        if engine is not None:
            snap = engine.meter.snapshot()  # one reading of the meter for rows and host lines
            active = engine.active(snap)
            live = {a.upload_id: Live(a.uploaded, a.total, a.bytes_per_s, a.phase) for a in active}
            states = engine.host_states(snap)
            speeds = {h: s.bytes_per_s for h, s in states.items()}
            hosts = _merge_states(hosts, states, active)
        elif (
            self.session.mode == "attached"
            and not self.session.runner_stopped
            and runner_pid(self.session.paths) is None
        ):
            self.post_message(EngineReady(error="the runner stopped", runner_pid=None))
        self.main.post_message(RunnersRead(RunnerRegistry(self.session.db).all(now), now))
        self.main.post_message(QueueRead(rows, hosts, live, speeds, now, full, seq))

    @work(thread=True, exclusive=True, group="bandwidth-read", exit_on_error=False)
    def read_bandwidth(self) -> None:
        metrics = self.session.metrics
        now = self.clock()
        span = sparkline_span(metrics.first_sample_since(now - SPANS_S[-1]), now)
        series = metrics.bandwidth_series(span.seconds / 60, span.buckets)
        peak = metrics.stats("session")["total"].peak_bytes_per_s
        self.main.post_message(BandwidthRead(series, max([peak, *series]), span))

    def engine_sink(self, event: Event) -> None:
        """Called from engine threads: post and return, never wait for the UI."""
        self.main.post_message(to_message(event))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's thread workers fail here, in one place: say so, and keep reading."""
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        if worker.group == "queue-read":
            self._reading = False
        self.notify(f"{worker.name or worker.group} failed: {worker.error}", severity="error")

    # ---- the engine (in-process mode) -------------------------------------------------------

    @work(thread=True, group="engine-start", exit_on_error=False)
    def _start_engine(self) -> None:
        factory = self.session.engine_factory
        assert factory is not None
        try:
            engine = factory(sink=self.engine_sink, spawn=self.spawn)  # the home's runner name
            engine.start()
        except UserError as exc:
            self.post_message(EngineReady(str(exc), runner_pid(self.session.paths)))
            return
        self._engine = engine
        self.post_message(EngineReady(engine=engine))

    def spawn(self, target: Callable[[], None], name: str) -> None:
        """The engine's spawn: each long-running engine loop becomes a Textual thread worker."""
        if threading.get_ident() == self._loop_thread:
            self._run_engine_worker(target, name)
        else:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._run_engine_worker, target, name)

    def _run_engine_worker(self, target: Callable[[], None], name: str) -> None:
        self.run_worker(target, name=name, group="engine", thread=True, exit_on_error=False)

    def on_engine_ready(self, message: EngineReady) -> None:
        if message.error is None:
            if not self._stopping:
                self.engine = message.engine
                self.control = message.engine.control
                if self.sub_title == STARTING:
                    self.sub_title = self.session.mode_label
            return
        if message.runner_pid is not None:  # another runner won the race: watch it instead
            self.session.mode = "attached"
            self.session.runner_pid = message.runner_pid
            self.sub_title = self.session.mode_label
            self.notify(message.error, severity="warning")
        elif self.session.mode == "attached":
            self.session.runner_stopped = True
            self.sub_title = self.session.mode_label
            self.main.refresh_bindings()
        else:
            # the advice first: at 80 columns the header cuts the end with "…"
            self.sub_title = f"restart filehost-tui to upload here: {message.error}"

    def stop_engine_then_exit(self) -> None:
        self._stopping = True
        if self._engine is None:
            self.exit(0)
            return
        self.sub_title = "stopping uploads…"
        self._stop_engine()

    @work(thread=True, group="engine-stop", exit_on_error=False)
    def _stop_engine(self) -> None:
        engine, self._engine, self.engine = self._engine, None, None
        if engine is not None:
            engine.stop()
        self.post_message(EngineStopped())

    def on_engine_stopped(self, _: EngineStopped) -> None:
        self.exit(0)

    def on_unmount(self) -> None:
        engine, self._engine, self.engine = self._engine, None, None
        if engine is not None:  # closed without `q` (e.g. a test's context exit): still tidy up
            engine.stop(timeout=5.0)


def _merge_states(hosts: dict, states: dict, active: list) -> dict:
    """The engine knows backoff, auth trouble and bytes sent first-hand; prefer it over the
    database, whose uploaded_bytes lag by up to a second (the bars would disagree with the rows)."""
    from dataclasses import replace

    sent: dict[str, tuple[int, int]] = {}
    for a in active:
        done, total = sent.get(a.host, (0, 0))
        sent[a.host] = (done + a.uploaded, total + a.total)
    merged = dict(hosts)
    for host, summary in hosts.items():
        state = states.get(host)
        if state is not None:
            done, total = sent.get(host, (0, 0))
            merged[host] = replace(
                summary,
                backoff_until=state.backoff_until,
                auth_failing=state.auth_failing,
                active_uploaded=done,
                active_total=total,
            )
    return merged
