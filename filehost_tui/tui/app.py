"""The App: lays out the main screen, reads the database about once a second in a thread worker,
turns engine events into cell updates, and (in-process mode) runs the engine's workers as Textual
thread workers. User actions live in user_actions.py."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from textual import work
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header
from textual.worker import Worker, WorkerState

from filehost_tui.engine.events import Event, UploadCompleted, UploadFailed
from filehost_tui.engine.runner_lock import runner_pid
from filehost_tui.errors import UserError
from filehost_tui.tui.bindings import app_bindings
from filehost_tui.tui.messages import (
    ActionDone,
    BandwidthChanged,
    BandwidthRead,
    DatabaseTroubleChanged,
    EngineReady,
    EngineStopped,
    Live,
    ProgressUpdated,
    QueueRead,
    UploadChanged,
    to_message,
)
from filehost_tui.tui.progress_throttle import ProgressThrottle
from filehost_tui.tui.queue_view import changed_rows, host_summaries, load_rows
from filehost_tui.tui.resources import styles_dir
from filehost_tui.tui.session import TuiSession
from filehost_tui.tui.user_actions import UserActions
from filehost_tui.tui.widgets.bandwidth import BUCKETS, WINDOW_MINUTES, BandwidthPanel
from filehost_tui.tui.widgets.filter_bar import FilterBar
from filehost_tui.tui.widgets.hosts_panel import HostsPanel
from filehost_tui.tui.widgets.uploads_table import UploadsTable

BANDWIDTH_EVERY = 5  # polls between sparkline reads (samples are written every ~5 s)


class FilehostApp(UserActions, App[int]):
    CSS_PATH = str(styles_dir() / "app.tcss")
    TITLE = "filehost-tui"
    BINDINGS = app_bindings()

    def __init__(self, session: TuiSession) -> None:
        super().__init__()
        self.session = session
        self.clock = session.clock
        self.control = session.control
        self.engine = None  # shown to the rest of the app once its workers are registered
        self._engine = None  # owned from start() on: stopped at exit even if never shown
        self.summaries: dict = {}
        self.host_speed: dict[str, float] = {}
        self._max_id = 0
        self._open_ids: set[int] = set()
        self._reading = False
        self._read_again = False
        self._loaded = False
        self._polls = 0
        self._prev_bytes: dict[int, tuple[int, float]] = {}
        self._progress = ProgressThrottle(session.progress_interval, session.ui_clock)
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self.sub_title = session.mode_label

    def compose(self) -> ComposeResult:
        yield Header(icon="⇡")
        yield HostsPanel(id="hosts")
        yield BandwidthPanel(id="bandwidth")
        yield FilterBar(id="filter")
        yield UploadsTable(self.clock, id="uploads")
        yield Footer(compact=True)

    @property
    def table(self) -> UploadsTable:
        return self.query_one(UploadsTable)

    def on_mount(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self.query_one(FilterBar).display = False
        self.table.focus()
        for warning in self.session.warnings:
            self.notify(warning, severity="warning", timeout=10)
        self.request_read()
        self.read_bandwidth()
        if self.session.poll_interval:
            self.set_interval(self.session.poll_interval, self._poll)
        if self.session.engine_factory is not None and self.session.mode == "in-process":
            # Connection threads and the ticker hold a pool thread each for the whole session;
            # asyncio's default pool (cpu+4 threads) would starve, so give the loop one that fits.
            size = self.session.engine_threads + 8
            self._loop.set_default_executor(ThreadPoolExecutor(size, "filehost-tui"))
            self._start_engine()

    def _poll(self) -> None:
        self._polls += 1
        self.request_read()
        if self._polls % BANDWIDTH_EVERY == 0:
            self.read_bandwidth()

    # ---- reading the database ---------------------------------------------------------------

    def request_read(self) -> None:
        """Read again now; while a read is running, one more follows it (never two at once)."""
        if self._reading:
            self._read_again = True
            return
        self._reading = True
        self._read_queue(not self._loaded, self._max_id, set(self._open_ids))

    @work(thread=True, group="queue-read", exit_on_error=False)
    def _read_queue(self, full: bool, max_id: int, open_ids: set[int]) -> None:
        now = self.clock()
        rows = load_rows() if full else changed_rows(max_id, open_ids)
        hosts = host_summaries(now)
        live = speeds = None
        engine = self.engine
        if engine is not None:
            active = engine.active()
            live = {a.upload_id: Live(a.uploaded, a.total, a.bytes_per_s, a.phase) for a in active}
            states = engine.host_states()
            speeds = {h: s.bytes_per_s for h, s in states.items()}
            hosts = _merge_states(hosts, states, active)
        elif (
            self.session.mode == "attached"
            and not self.session.runner_stopped
            and runner_pid(self.session.paths) is None
        ):
            self.post_message(EngineReady(error="the runner stopped", runner_pid=None))
        self.post_message(QueueRead(rows, hosts, live, speeds, now, full))

    def on_queue_read(self, message: QueueRead) -> None:
        self._reading = False
        table = self.query_one_optional(UploadsTable)
        hosts_panel = self.query_one_optional(HostsPanel)
        bandwidth = self.query_one_optional(BandwidthPanel)
        if table is None or hosts_panel is None or bandwidth is None:
            return  # a read that ended after the screen was torn down
        self._loaded = True
        with self.batch_update():
            table.apply_rows(message.rows)
            live = message.live if message.live is not None else self._live_from_db(table, message)
            table.apply_live(live)
            table.tick()
        self._progress.superseded()
        for row in message.rows:
            self._max_id = max(self._max_id, row.id)
            if row.finished:
                self._open_ids.discard(row.id)
            else:
                self._open_ids.add(row.id)
        if message.host_speed is not None:
            self.host_speed = message.host_speed
        else:
            self.host_speed = {}
            for upload_id, item in live.items():
                host = table.known[upload_id].host if upload_id in table.known else ""
                self.host_speed[host] = self.host_speed.get(host, 0.0) + item.bytes_per_s
            bandwidth.show_current(sum(self.host_speed.values()))
        self.summaries = message.hosts
        hosts_panel.show(message.hosts, self.host_speed, message.now)
        self.refresh_bindings()
        if self._read_again:
            self._read_again = False
            self.request_read()

    def _live_from_db(self, table: UploadsTable, message: QueueRead) -> dict[int, Live]:
        """Attached mode: speed from how far uploaded_bytes moved since the last read."""
        live: dict[int, Live] = {}
        known = table.known
        for upload_id in self._open_ids | {r.id for r in message.rows}:
            row = known.get(upload_id)
            if row is None or row.status != "uploading":
                self._prev_bytes.pop(upload_id, None)
                continue
            before = self._prev_bytes.get(upload_id)
            rate = 0.0
            if before and message.now > before[1] and row.uploaded >= before[0]:
                rate = (row.uploaded - before[0]) / (message.now - before[1])
            if before is None or row.uploaded != before[0]:
                self._prev_bytes[upload_id] = (row.uploaded, message.now)
            elif before is not None and message.now - before[1] < 3:
                rate = table.live.get(upload_id, Live(0, 0, 0.0)).bytes_per_s
            live[upload_id] = Live(row.uploaded, row.total, rate)
        return live

    @work(thread=True, exclusive=True, group="bandwidth-read", exit_on_error=False)
    def read_bandwidth(self) -> None:
        metrics = self.session.metrics
        series = metrics.bandwidth_series(WINDOW_MINUTES, BUCKETS)
        peak = metrics.stats("session")["total"].peak_bytes_per_s
        self.post_message(BandwidthRead(series, max([peak, *series])))

    def on_bandwidth_read(self, message: BandwidthRead) -> None:
        panel = self.query_one_optional(BandwidthPanel)
        if panel is not None:
            panel.show_series(message.series, message.peak)

    # ---- engine events ----------------------------------------------------------------------

    def engine_sink(self, event: Event) -> None:
        """Called from engine threads: post and return, never wait for the UI."""
        self.post_message(to_message(event))

    def on_progress_updated(self, message: ProgressUpdated) -> None:
        e = message.event
        table = self.query_one_optional(UploadsTable)
        if table is None:
            return
        before = table.live.get(e.upload_id)
        live = Live(e.uploaded, e.total, e.bytes_per_s, before.phase if before else "uploading")
        due = self._progress.offer(e.upload_id, live)
        if due:
            with self.batch_update():
                for upload_id, item in due.items():
                    table.apply_progress(upload_id, item)

    def on_bandwidth_changed(self, message: BandwidthChanged) -> None:
        e = message.event
        if e.host is None:
            panel = self.query_one_optional(BandwidthPanel)
            if panel is not None:
                panel.show_current(e.bytes_per_s)
        else:
            self.host_speed[e.host] = e.bytes_per_s

    def on_upload_changed(self, message: UploadChanged) -> None:
        table = self.query_one_optional(UploadsTable)
        if table is not None and isinstance(message.event, UploadCompleted | UploadFailed):
            table.live.pop(message.event.upload_id, None)
            self._progress.forget(message.event.upload_id)
        self.request_read()

    def on_database_trouble_changed(self, message: DatabaseTroubleChanged) -> None:
        e = message.event
        if e.message is None:
            self.notify("The database takes writes again.")
            return
        waiting = f" {e.unsaved} finished upload(s) wait in memory." if e.unsaved else ""
        self.notify(
            f"Cannot write the database: {e.message}.{waiting} Free some disk space.",
            severity="error",
            timeout=30,
        )

    def on_action_done(self, message: ActionDone) -> None:
        self.notify(message.result, severity="information" if message.ok else "warning")
        self.request_read()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every thread worker fails here, in one place: say so, and keep reading."""
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        if worker.group == "queue-read":
            self._reading = False
        self.notify(f"{worker.name or worker.group} failed: {worker.error}", severity="error")

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is self.table:
            self.action_details()

    # ---- the engine (in-process mode) -------------------------------------------------------

    @work(thread=True, group="engine-start", exit_on_error=False)
    def _start_engine(self) -> None:
        factory = self.session.engine_factory
        assert factory is not None
        engine = factory(sink=self.engine_sink, spawn=self.spawn)
        try:
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
            return
        if message.runner_pid is not None:  # another runner won the race: watch it instead
            self.session.mode = "attached"
            self.session.runner_pid = message.runner_pid
            self.sub_title = self.session.mode_label
            self.notify(message.error, severity="warning")
        elif self.session.mode == "attached":
            self.session.runner_stopped = True
            self.sub_title = self.session.mode_label
        else:
            self.sub_title = f"{message.error}; restart filehost-tui to upload here"

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
