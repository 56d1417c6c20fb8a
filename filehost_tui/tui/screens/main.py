"""The main screen: hosts, bandwidth, filter and the uploads table, with every key that acts on
them. The app reads the database and runs the engine; what they report arrives here as messages
(posted to this screen, so none is handled once it has gone) and becomes cell updates.

Every change a key asks for goes through the control plane (a database write plus a doorbell ring)
in a thread worker and comes back as an ActionDone message: the UI never waits on SQLite's lock.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input
from textual.worker import Worker, WorkerState, get_current_worker

from filehost_tui.engine.attempts import attempts_of
from filehost_tui.engine.eta import queue_eta
from filehost_tui.engine.events import UploadCompleted, UploadFailed
from filehost_tui.engine.states import IllegalTransition
from filehost_tui.errors import UserError
from filehost_tui.tui.bindings import screen_bindings
from filehost_tui.tui.clipboard import send_link
from filehost_tui.tui.messages import (
    ActionDone,
    BandwidthChanged,
    BandwidthRead,
    DatabaseTroubleChanged,
    HistoryRead,
    Live,
    ProgressUpdated,
    QueueRead,
    RunnersRead,
    UploadChanged,
)
from filehost_tui.tui.progress_throttle import ProgressThrottle
from filehost_tui.tui.queue_view import UploadRow, older_history, search_history
from filehost_tui.tui.screens import confirm_texts
from filehost_tui.tui.screens.add_modal import AddModal, AddRequest
from filehost_tui.tui.screens.confirm import ConfirmScreen
from filehost_tui.tui.screens.details import DetailsScreen, UploadDetails
from filehost_tui.tui.screens.hosts import HostsScreen
from filehost_tui.tui.screens.pause_dialogs import (
    ASK_FROM_BYTES,
    DRAIN,
    STOP,
    PauseAllScreen,
    PauseOneScreen,
    thrown_away,
)
from filehost_tui.tui.screens.stats import StatsScreen
from filehost_tui.tui.session import TuiSession
from filehost_tui.tui.widgets.bandwidth import BandwidthPanel
from filehost_tui.tui.widgets.filter_bar import FilterBar
from filehost_tui.tui.widgets.hosts_panel import HostsPanel
from filehost_tui.tui.widgets.runners_panel import RunnersPanel
from filehost_tui.tui.widgets.uploads_table import UploadsTable

if TYPE_CHECKING:
    from filehost_tui.tui.app import FilehostApp

SEARCH_DELAY_S = 0.15
"""Quiet time after a keystroke before the filter asks the database."""
NEEDS_ROW = {
    "retry": ("failed", "cancelled"),
    "cancel": ("pending", "uploading", "paused", "failed"),
    "toggle_pause": ("pending", "uploading", "paused"),
}

ALL_DONE = {
    "pause_all": "paused {} upload(s)",
    "drain_all": "paused {} waiting upload(s); running ones finish",
    "resume_all": "resumed {} upload(s)",
}


class MainScreen(Screen):
    BINDINGS = screen_bindings()

    def __init__(self, session: TuiSession) -> None:
        super().__init__(id="main")
        self.session = session
        self.clock = session.clock
        self.summaries: dict = {}
        self.host_speed: dict[str, float] = {}
        self._open_ids: set[int] = set()
        self._prev_bytes: dict[int, tuple[int, float]] = {}
        self._progress = ProgressThrottle(session.progress_interval, session.ui_clock)
        self._reading_older = False
        self._history_exhausted = False
        self._search_timer: Timer | None = None

    @property
    def filehost(self) -> FilehostApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header(icon="⇡")
        yield HostsPanel(id="hosts")
        yield RunnersPanel(id="runners")
        yield BandwidthPanel(id="bandwidth")
        yield FilterBar(id="filter")
        yield UploadsTable(
            self.clock, self.session.disabled_hosts, runners=self.session.show_runners, id="uploads"
        )
        yield Footer(compact=True)

    @property
    def table(self) -> UploadsTable:
        return self.query_one(UploadsTable)

    def on_mount(self) -> None:
        self.query_one(FilterBar).display = False
        self.query_one(RunnersPanel).display = self.session.show_runners
        self.table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim keys that do nothing for the selected upload, so the footer shows what is live;
        `upload here` shows only while there is a stopped runner to take over from."""
        if action == "upload_here":
            return self.session.can_take_over
        if action in NEEDS_ROW or action in ("copy_link", "details"):
            table = self.query_one_optional(UploadsTable)
            row = table.selected_row() if table is not None else None
            if row is None:
                return None
            if action == "copy_link":
                return True if row.url else None
            if action in NEEDS_ROW:
                return True if row.status in NEEDS_ROW[action] else None
        return True

    # ---- what the app read --------------------------------------------------------------------

    def on_queue_read(self, message: QueueRead) -> None:
        self.filehost.read_done(message.seq)
        table = self.table
        selected = _key_state(table.selected_row())
        with self.app.batch_update():
            table.apply_rows(message.rows)
            live = message.live if message.live is not None else self._live_from_db(message)
            table.apply_live(live)
            table.tick()
        self._progress.superseded()
        for row in message.rows:
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
            self.query_one(BandwidthPanel).show_current(sum(self.host_speed.values()))
        self.summaries = message.hosts
        self.query_one(HostsPanel).show(message.hosts, self.host_speed, message.now)
        for screen in self.app.screen_stack:
            if isinstance(screen, HostsScreen):
                screen.show(message.hosts, self.host_speed, message.now)
        left = {h: s.bytes_left for h, s in message.hosts.items()}
        self.query_one(BandwidthPanel).show_eta(queue_eta(left, self.host_speed))
        if _key_state(table.selected_row()) != selected:
            self.refresh_bindings()  # the footer is rebuilt: only when the keys' state changed

    def on_runners_read(self, message: RunnersRead) -> None:
        panel = self.query_one(RunnersPanel)
        panel.display = self.session.show_runners or len(message.runners) > 1
        panel.show(message.runners, message.now)
        self.table.set_runner_states({r.name: r.state for r in message.runners})

    def _live_from_db(self, message: QueueRead) -> dict[int, Live]:
        """Attached mode: speed from how far uploaded_bytes moved since the last read."""
        table = self.table
        live: dict[int, Live] = {}
        for upload_id in self._open_ids | {r.id for r in message.rows}:
            row = table.known.get(upload_id)
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

    def on_resize(self) -> None:
        self.query_one(HostsPanel).refit()

    def on_bandwidth_read(self, message: BandwidthRead) -> None:
        self.query_one(BandwidthPanel).show_series(message.series, message.peak, message.span)

    def on_uploads_table_older_wanted(self, _: UploadsTable.OlderWanted) -> None:
        """Up or page-up on the top row: the next page of older finished uploads."""
        if self._reading_older or self._history_exhausted or not self.filehost.loaded:
            return
        self._reading_older = True
        self._read_older(self.table.oldest_history_id())

    @work(thread=True, group="history-read", exit_on_error=False)
    def _read_older(self, before: int | None) -> None:
        rows = older_history(before, self.session.config.tui.history_rows)
        self.post_message(HistoryRead(rows, older=True))

    def on_history_read(self, message: HistoryRead) -> None:
        """Older rows from paging, or rows the filter found in history (if still that filter)."""
        self._reading_older = self._reading_older and not message.older
        if message.older:
            self._history_exhausted = not message.rows
            self.table.add_history(message.rows, found=False)
        elif message.text == self.table.row_filter.text:
            self.table.add_history(message.rows, found=True)

    # ---- what the engine reports --------------------------------------------------------------

    def on_progress_updated(self, message: ProgressUpdated) -> None:
        e = message.event
        table = self.table
        before = table.live.get(e.upload_id)
        live = Live(e.uploaded, e.total, e.bytes_per_s, before.phase if before else "uploading")
        due = self._progress.offer(e.upload_id, live)
        if due:
            with self.app.batch_update():
                for upload_id, item in due.items():
                    table.apply_progress(upload_id, item)

    def on_bandwidth_changed(self, message: BandwidthChanged) -> None:
        e = message.event
        if e.host is None:
            self.query_one(BandwidthPanel).show_current(e.bytes_per_s)
        else:
            self.host_speed[e.host] = e.bytes_per_s

    def on_upload_changed(self, message: UploadChanged) -> None:
        if isinstance(message.event, UploadCompleted | UploadFailed):
            self.table.live.pop(message.event.upload_id, None)
            self._progress.forget(message.event.upload_id)
        self.filehost.request_read()

    def on_database_trouble_changed(self, message: DatabaseTroubleChanged) -> None:
        e = message.event
        if e.message is None:
            self.notify("The database takes writes again.")
            return
        waiting = f" {e.unsaved} finished upload(s) wait in memory." if e.unsaved else ""
        self.notify(
            f"Cannot write the database: {e.message}.{waiting} {e.hint[:1].upper()}{e.hint[1:]}.",
            severity="error",
            timeout=30,
        )

    def on_action_done(self, message: ActionDone) -> None:
        self.notify(message.result, severity="information" if message.ok else "warning")
        self.filehost.request_read()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """This screen's thread workers fail here, in one place: say so, and keep going."""
        if event.state != WorkerState.ERROR:
            return
        if event.worker.group == "history-read":
            self._reading_older = False
        self.notify(f"{event.worker.name or event.worker.group} failed: {event.worker.error}",
                    severity="error")  # fmt: skip

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is self.table:
            self.action_details()

    # ---- changing uploads ---------------------------------------------------------------------

    def action_retry(self) -> None:
        self._on_selected("retry")

    def action_toggle_pause(self) -> None:
        """A transfer that has sent a lot asks first: pausing sends it again from the start."""
        row = self.table.selected_row()
        if row is None:
            return
        sent = thrown_away(self._sent(row), row.total)
        if row.status != "uploading" or sent < ASK_FROM_BYTES:
            self._control("toggle_pause", (row.id,))
            return

        def answered(choice: str | None) -> None:
            if choice == STOP:
                self._control("toggle_pause", (row.id,))

        question = confirm_texts.pause_active(row.item, row.host, sent, row.total)
        self.app.push_screen(PauseOneScreen(question), answered)

    def action_cancel(self) -> None:
        row = self.table.selected_row()
        if row is None:
            return
        if row.status != "uploading":
            self._control("cancel", (row.id,))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._control("cancel", (row.id,))

        self.app.push_screen(
            ConfirmScreen(confirm_texts.cancel_active(row.item, row.host)), answered
        )

    def action_toggle_pause_all(self) -> None:
        """Pause everything, or resume it when nothing runs or waits; while transfers that have
        sent a lot run, ask, with "finish running, start nothing new" (drain) as the default."""
        busy = any(s.active or s.queued for s in self.summaries.values())
        if not busy:
            self._control("resume_all", ())
            return
        running = [r for r in self.table.known.values() if r.status == "uploading"]
        sent = sum(thrown_away(self._sent(r), r.total) for r in running)
        if sent < ASK_FROM_BYTES:
            self._control("pause_all", ())
            return

        def answered(choice: str | None) -> None:
            if choice is not None:
                self._control("drain_all" if choice == DRAIN else "pause_all", ())

        question = confirm_texts.pause_all_active(len(running), sent)
        self.app.push_screen(PauseAllScreen(question), answered)

    def _sent(self, row: UploadRow) -> int:
        """Bytes a transfer has sent: the engine's count when it has one (the row's lags)."""
        live = self.table.live.get(row.id)
        return live.uploaded if live is not None else row.uploaded

    def _on_selected(self, action: str) -> None:
        upload_id = self.table.selected_id()
        if upload_id is not None:
            self._control(action, (upload_id,))

    @work(thread=True, group="control", exit_on_error=False)
    def _control(self, action: str, upload_ids: tuple[int, ...]) -> None:
        control = self.filehost.control
        try:
            if action in ALL_DONE:
                result = ALL_DONE[action].format(getattr(control, action)())
            else:
                statuses = [str(getattr(control, action)(i)) for i in upload_ids]
                result = f"upload {', '.join(map(str, upload_ids))}: {', '.join(statuses)}"
        except (IllegalTransition, UserError) as exc:
            self.post_message(ActionDone(action, upload_ids, str(exc), ok=False))
            return
        self.post_message(ActionDone(action, upload_ids, result, ok=True))

    def action_add(self) -> None:
        def added(request: AddRequest | None) -> None:
            if request is not None:
                self._add(request)

        self.app.push_screen(AddModal(self.session.hosts, self.session.cursor_blink), added)

    @work(thread=True, group="control", exit_on_error=False)
    def _add(self, request: AddRequest) -> None:
        """Adding fingerprints folders (a walk of the tree): a thread, never the event loop."""
        try:
            ids = self.filehost.control.add([request.path], list(request.hosts), request.name)
        except UserError as exc:
            self.post_message(ActionDone("add", (), str(exc), ok=False))
            return
        hosts = ", ".join(request.hosts)
        self.post_message(ActionDone("add", tuple(ids), f"queued for {hosts}", ok=True))

    # ---- looking at uploads -------------------------------------------------------------------

    def action_details(self) -> None:
        upload_id = self.table.selected_id()
        if upload_id is None:
            return
        session = self.session
        row = session.queue.get(upload_id)
        details = UploadDetails.from_row(
            row, attempts_of(row), session.disabled_hosts, session.paths.config_file
        )
        self.app.push_screen(DetailsScreen(details, self.clock()))

    def action_copy_link(self) -> None:
        row = self.table.selected_row()
        if row is None:
            return
        if not row.url:
            self.notify(f"{row.item} has no link yet ({row.status})", severity="warning")
            return
        send_link(self, row.url)

    def action_hosts(self) -> None:
        config_file = self.session.paths.config_file
        self.app.push_screen(
            HostsScreen(config_file, self.summaries, self.host_speed, self.clock())
        )

    def on_hosts_panel_more_wanted(self, _: HostsPanel.MoreWanted) -> None:
        self.action_hosts()

    def action_upload_here(self) -> None:
        self.filehost.take_over()

    def action_stats(self) -> None:
        self.app.push_screen(StatsScreen(self.session.metrics.stats))

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.display = True
        bar.cursor_blink = self.session.cursor_blink
        bar.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """The rows held are filtered at once; the history behind them is asked a moment after
        the last keystroke (a newer keystroke supersedes the search still running)."""
        if not isinstance(event.input, FilterBar):
            return
        self.table.set_filter(replace(self.table.row_filter, text=event.value, now=self.clock()))
        self._show_filter()
        if self._search_timer is not None:
            self._search_timer.stop()
        if event.value.strip():
            self._search_timer = self.set_timer(
                SEARCH_DELAY_S, lambda: self._search_history(event.value)
            )

    @work(thread=True, exclusive=True, group="history-search", exit_on_error=False)
    def _search_history(self, text: str) -> None:
        rows = search_history(text, self.clock(), self.session.config.tui.history_rows)
        if not get_current_worker().is_cancelled:
            self.post_message(HistoryRead(rows, text=text))

    def on_filter_bar_closed(self, event: FilterBar.Closed) -> None:
        self.query_one(FilterBar).display = False
        self.table.focus()
        if not event.keep:
            self.table.set_filter(replace(self.table.row_filter, text=""))
        self._show_filter()

    def action_toggle_finished(self) -> None:
        current = self.table.row_filter
        self.table.set_filter(replace(current, hide_finished=not current.hide_finished))
        self._show_filter()

    def _show_filter(self) -> None:
        described = self.table.row_filter.describe()
        label = self.session.mode_label
        self.app.sub_title = f"{label} · {described}" if described else label


def _key_state(row: UploadRow | None) -> tuple[object, ...] | None:
    """What the footer's live keys depend on (see MainScreen.check_action)."""
    return None if row is None else (row.id, row.status, bool(row.url))
