"""Every key, from the one binding table, with what it does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label

from filehost_tui.tui.bindings import KEYS, key_display
from filehost_tui.tui.fit import head

KEY_WIDTH = 14
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
        table.add_column("key", key="key", width=KEY_WIDTH)
        table.add_column("does", key="does", width=40)
        for key in KEYS:
            table.add_row(key_display(key), head(key.help))
        for key, does in EXTRA:
            table.add_row(key, head(does))
        table.focus()

    def on_resize(self) -> None:
        """The "does" column takes the dialog's width; a line cut ends in "…"."""
        table = self.query_one(DataTable)
        width = max(10, table.size.width - KEY_WIDTH - 4 * table.cell_padding)
        table.columns["does"].width = width  # type: ignore[index]
        # what DataTable's own add_column does, so the next paint uses the new width
        table._require_update_dimensions = True
        table.refresh()

    def action_close(self) -> None:
        self.dismiss(None)
