"""Every key, from the one binding table, with what it does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label

from filehost_tui.tui.bindings import KEYS, key_display

EXTRA = (
    ("↑ ↓ pgup pgdn", "Move in the uploads table"),
    ("escape", "Close a dialog; clear the filter"),
    ("ctrl+p", "Command palette: every action, theme, dark/light"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "close", id="filehost.help.close"),
        Binding("q,question_mark", "close", "close", show=False, id="filehost.help.close_alt"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help-dialog"):
            yield Label("Keys", classes="dialog-title")
            yield DataTable(id="help-keys", cursor_type="none", show_header=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("key", key="key", width=14)
        table.add_column("does", key="does", width=52)
        for key in KEYS:
            table.add_row(key_display(key), key.help)
        for key, does in EXTRA:
            table.add_row(key, does)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
