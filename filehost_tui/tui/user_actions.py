"""What each key does. A mixin of the App so app.py stays about layout, reading and the engine.

Every change goes through the control plane (Control: a database write plus a doorbell ring) in a
thread worker, and comes back as an ActionDone message: the UI never waits on SQLite's lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from textual import work
from textual.app import SystemCommand
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import get_current_worker

from filehost_tui.engine.doorbell import ring
from filehost_tui.engine.states import IllegalTransition
from filehost_tui.errors import UserError
from filehost_tui.tui.bindings import KEYS, key_display, palette_action
from filehost_tui.tui.messages import ActionDone, HistoryRead
from filehost_tui.tui.queue_view import search_history
from filehost_tui.tui.screens import confirm_texts
from filehost_tui.tui.screens.add_modal import AddModal, AddRequest
from filehost_tui.tui.screens.confirm import ConfirmScreen
from filehost_tui.tui.screens.details import DetailsScreen, UploadDetails
from filehost_tui.tui.screens.help import HelpScreen
from filehost_tui.tui.screens.stats import StatsScreen
from filehost_tui.tui.widgets.filter_bar import FilterBar
from filehost_tui.tui.widgets.uploads_table import UploadsTable

if TYPE_CHECKING:
    from filehost_tui.tui.app import FilehostApp

SEARCH_DELAY_S = 0.15
"""Quiet time after a keystroke before the filter asks the database."""
MAIN_SCREEN_ACTIONS = {k.action for k in KEYS if not k.table} - {"quit", "help"}
NEEDS_ROW = {
    "retry": ("failed", "cancelled"),
    "cancel": ("pending", "uploading", "paused", "failed"),
    "toggle_pause": ("pending", "uploading", "paused"),
}


class UserActions:
    """Mixed into FilehostApp; `self` is the app."""

    def check_action(self: FilehostApp, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim keys that do nothing for the selected upload, so the footer shows what is live;
        over a dialog the main screen's keys are off (the dialog's own keys remain)."""
        if len(self.screen_stack) > 1 and action in MAIN_SCREEN_ACTIONS:
            return False
        if action in NEEDS_ROW or action in ("copy_link", "details"):
            table = self.query_one_optional(UploadsTable)  # gone while the app closes
            row = table.selected_row() if table is not None else None
            if row is None:
                return None
            if action == "copy_link":
                return True if row.url else None
            if action in NEEDS_ROW:
                return True if row.status in NEEDS_ROW[action] else None
        return True

    def get_system_commands(self: FilehostApp, screen: Screen) -> Iterable[SystemCommand]:
        """The palette offers every key's action, then Textual's own (theme, keys, quit...)."""
        for key in KEYS:
            action = palette_action(key)
            yield SystemCommand(
                f"{key.label.capitalize()} ({key_display(key)})",
                key.help,
                lambda action=action: self.run_action(action),
            )
        yield SystemCommand("Toggle dark/light", "Switch between dark and light", self.toggle_dark)
        yield from super().get_system_commands(screen)  # type: ignore[misc]

    def toggle_dark(self: FilehostApp) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    # ---- changing uploads -------------------------------------------------------------------

    def action_retry(self: FilehostApp) -> None:
        self._on_selected("retry")

    def action_toggle_pause(self: FilehostApp) -> None:
        self._on_selected("toggle_pause")

    def action_cancel(self: FilehostApp) -> None:
        row = self.table.selected_row()
        if row is None:
            return
        if row.status == "uploading":

            def answered(yes: bool | None) -> None:
                if yes:
                    self._control("cancel", (row.id,))

            self.push_screen(
                ConfirmScreen(confirm_texts.cancel_active(row.item, row.host)), answered
            )
        else:
            self._control("cancel", (row.id,))

    def action_toggle_pause_all(self: FilehostApp) -> None:
        busy = any(s.active or s.queued for s in self.summaries.values())
        self._control("pause_all" if busy else "resume_all", ())

    def _on_selected(self: FilehostApp, action: str) -> None:
        upload_id = self.table.selected_id()
        if upload_id is not None:
            self._control(action, (upload_id,))

    @work(thread=True, group="control", exit_on_error=False)
    def _control(self: FilehostApp, action: str, upload_ids: tuple[int, ...]) -> None:
        control = self.control
        try:
            if action in ("pause_all", "resume_all"):
                count = getattr(control, action)()
                verb = "paused" if action == "pause_all" else "resumed"
                result = f"{verb} {count} upload(s)"
            else:
                statuses = [str(getattr(control, action)(i)) for i in upload_ids]
                result = f"upload {', '.join(map(str, upload_ids))}: {', '.join(statuses)}"
        except (IllegalTransition, UserError) as exc:
            self.post_message(ActionDone(action, upload_ids, str(exc), ok=False))
            return
        self.post_message(ActionDone(action, upload_ids, result, ok=True))

    def action_add(self: FilehostApp) -> None:
        def added(request: AddRequest | None) -> None:
            if request is not None:
                self._add(request)

        self.push_screen(AddModal(self.session.hosts, self.session.cursor_blink), added)

    @work(thread=True, group="control", exit_on_error=False)
    def _add(self: FilehostApp, request: AddRequest) -> None:
        """queue.add fingerprints folders (a walk of the tree): a thread, never the event loop."""
        try:
            ids = self.session.queue.add([request.path], list(request.hosts), request.name)
        except UserError as exc:
            self.post_message(ActionDone("add", (), str(exc), ok=False))
            return
        ring(self.session.paths)
        hosts = ", ".join(request.hosts)
        self.post_message(ActionDone("add", tuple(ids), f"queued for {hosts}", ok=True))

    # ---- looking at uploads -----------------------------------------------------------------

    def action_details(self: FilehostApp) -> None:
        upload_id = self.table.selected_id()
        if upload_id is None:
            return
        details = UploadDetails.from_row(self.session.queue.get(upload_id))
        self.push_screen(DetailsScreen(details, self.clock()))

    def action_copy_link(self: FilehostApp) -> None:
        row = self.table.selected_row()
        if row is None:
            return
        if not row.url:
            self.notify(f"{row.item} has no link yet ({row.status})", severity="warning")
            return
        self.copy_to_clipboard(row.url)
        self.notify(f"copied {row.url}")

    def action_stats(self: FilehostApp) -> None:
        self.push_screen(StatsScreen(self.session.metrics.stats))

    def action_help(self: FilehostApp) -> None:
        self.push_screen(HelpScreen())

    def action_filter(self: FilehostApp) -> None:
        bar = self.query_one(FilterBar)
        bar.display = True
        bar.cursor_blink = self.session.cursor_blink
        bar.focus()

    def on_input_changed(self: FilehostApp, event: Input.Changed) -> None:
        """The rows held are filtered at once; the history behind them is asked a moment after
        the last keystroke (a newer keystroke supersedes the search still running)."""
        if isinstance(event.input, FilterBar):
            row_filter = replace(self.table.row_filter, text=event.value, now=self.clock())
            self.table.set_filter(row_filter)
            self._show_filter()
            if self._search_timer is not None:
                self._search_timer.stop()
            if event.value.strip():
                self._search_timer = self.set_timer(
                    SEARCH_DELAY_S, lambda: self._search_history(event.value)
                )

    @work(thread=True, exclusive=True, group="history-search", exit_on_error=False)
    def _search_history(self: FilehostApp, text: str) -> None:
        rows = search_history(text, self.clock(), self.session.config.tui.history_rows)
        if not get_current_worker().is_cancelled:
            self.post_message(HistoryRead(rows, text=text))

    def on_filter_bar_closed(self: FilehostApp, event: FilterBar.Closed) -> None:
        bar = self.query_one(FilterBar)
        bar.display = False
        self.table.focus()
        if not event.keep:
            self.table.set_filter(replace(self.table.row_filter, text=""))
        self._show_filter()

    def action_toggle_finished(self: FilehostApp) -> None:
        current = self.table.row_filter
        self.table.set_filter(replace(current, hide_finished=not current.hide_finished))
        self._show_filter()

    def _show_filter(self: FilehostApp) -> None:
        described = self.table.row_filter.describe()
        label = self.session.mode_label
        self.sub_title = f"{label} · {described}" if described else label

    # ---- leaving ----------------------------------------------------------------------------

    async def action_quit(self: FilehostApp) -> None:
        engine = self.engine
        running = len(engine.active()) if engine is not None else 0
        if not running:
            self.stop_engine_then_exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.stop_engine_then_exit()

        self.push_screen(ConfirmScreen(confirm_texts.quit_active(running), "Quit"), answered)
