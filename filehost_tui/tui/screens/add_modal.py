"""Add work: a path (tab completes from the file system), one or more hosts, an optional name.

Tab completes only a path that does not exist yet: once the input names a file or folder, tab moves
on, so a folder can be queued from the keyboard without tab walking into it (`myfolder` →
`myfolder/` → `myfolder/one.dat`). The right arrow still takes the grey suggestion at any time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Button, Footer, Input, Label, SelectionList


@dataclass(frozen=True)
class AddRequest:
    path: str
    hosts: tuple[str, ...]
    name: str | None


class PathSuggester(Suggester):
    """Completes the last path component from the directory listing (folders get a '/')."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        expanded = os.path.expanduser(value)
        folder, prefix = os.path.split(expanded)
        try:
            names = sorted(
                e.name + ("/" if e.is_dir() else "")
                for e in os.scandir(folder or ".")
                if e.name.startswith(prefix) and (prefix.startswith(".") or e.name[0] != ".")
            )
        except OSError:
            return None
        for name in names:
            if name != prefix:
                return value + name[len(prefix) :]
        return None


class PathInput(Input):
    BINDINGS = [Binding("tab", "complete", "complete", show=False, id="filehost.add.complete")]

    def action_complete(self) -> None:
        """Tab takes the completion while the input names nothing yet, else moves on like tab
        always does."""
        if self._suggestion and self._suggestion != self.value and not _exists(self.value):
            self.value = self._suggestion
            self.cursor_position = len(self.value)
        else:
            self.screen.focus_next()


class AddModal(ModalScreen[AddRequest | None]):
    BINDINGS = [
        Binding("escape", "cancel", "cancel", id="filehost.add.cancel"),
        Binding("ctrl+s", "submit", "add", id="filehost.add.submit"),
    ]

    def __init__(self, hosts: tuple[str, ...], cursor_blink: bool = True) -> None:
        super().__init__()
        self.hosts = hosts
        self.cursor_blink = cursor_blink
        self._problem_of: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="add-dialog"):
            yield Label("Add files or folders", classes="dialog-title")
            yield Label("Path (tab completes a partial name, → takes the grey suggestion)")
            yield PathInput(
                id="add-path", placeholder="~/folder or /file", suggester=PathSuggester()
            )
            yield Label("Hosts (space selects)")
            yield SelectionList[str](*((h, h) for h in self.hosts), id="add-hosts")
            yield Label("Name (optional)")
            yield Input(id="add-name", placeholder="the item's title; default: the file name")
            yield Label("", id="add-error")
            with Horizontal(classes="buttons"):
                yield Button("Add (ctrl+s)", id="add-ok", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="add-cancel", compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = self.cursor_blink
            field.compact = True
        self.query_one("#add-path", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "add-ok":
            self.action_submit()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter queues what the path names (a folder stays a folder) or says what is missing;
        on an existing path with no host picked yet it moves on to the hosts."""
        hosts = self.query_one("#add-hosts", SelectionList).selected
        if event.input.id == "add-name" or hosts or not _exists(event.value):
            self.action_submit()
        else:
            self.focus_next()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        """Picking a host answers "Pick at least one host": the line goes."""
        if event.selection_list.selected and self._problem_of == "hosts":
            self._show_problem(None, None)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "add-path" and self._problem_of == "path":
            self._show_problem(None, None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        path = self.query_one("#add-path", Input).value.strip()
        hosts = tuple(self.query_one("#add-hosts", SelectionList).selected)
        name = self.query_one("#add-name", Input).value.strip() or None
        if not path:
            self._show_problem("path", "Type a path to a file or folder.")
        elif not _exists(path):
            self._show_problem("path", f"{path}: no such file or folder.")
        elif not hosts:
            self._show_problem(
                "hosts",
                "Pick at least one host (space selects)." if self.hosts else "No host enabled.",
            )
        else:
            self.dismiss(AddRequest(str(Path(path).expanduser()), hosts, name))

    def _show_problem(self, field: str | None, text: str | None) -> None:
        """One problem line, kept only until the field it is about changes."""
        self._problem_of = field
        self.query_one("#add-error", Label).update(text or "")


def _exists(path: str) -> bool:
    return bool(path.strip()) and Path(path.strip()).expanduser().exists()
