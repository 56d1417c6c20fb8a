"""Every key of the main screen, with ids, in one place: the footer, the help screen, the command
palette and a user keymap (App.set_keymap with these ids) all read this table."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    id: str
    key: str
    action: str
    label: str
    help: str
    show: bool = True
    table: bool = False
    """Bound on the uploads table rather than the app (enter belongs to the table's cursor)."""

    @property
    def binding_id(self) -> str:
        return f"filehost.{self.id}"


KEYS: tuple[Key, ...] = (
    Key("add", "a", "add", "add", "Add files or folders to the queue"),
    Key("retry", "r", "retry", "retry", "Retry the selected failed or cancelled upload"),
    Key("cancel", "c", "cancel", "cancel", "Cancel the selected upload (asks if it is active)"),
    Key(
        "pause",
        "p",
        "toggle_pause",
        "pause",
        "Pause or resume the selected upload (asks if busy)",
    ),
    Key(
        "pause_all",
        "P",
        "toggle_pause_all",
        "pause all",
        "Pause or resume every upload (asks: finish or stop)",
        show=False,
    ),
    Key(
        "details",
        "enter",
        "select_cursor",
        "details",
        "Details: full error, link, times, attempts",
        table=True,
    ),
    Key("copy", "y", "copy_link", "copy", "Copy the selected upload's link (OSC 52)"),
    Key("stats", "s", "stats", "stats", "Statistics per host and period"),
    Key("hosts", "H", "hosts", "hosts", "Every host in use, trouble first", show=False),
    Key(
        "upload_here",
        "u",
        "upload_here",
        "upload here",
        "Upload here once the runner you watched has stopped",
    ),
    Key("filter", "slash", "filter", "filter", "Filter: text, host:ID, status:NAME, runner:NAME"),
    Key("hide", "h", "toggle_finished", "hide done", "Hide or show finished uploads", show=False),
    Key("help", "question_mark", "help", "help", "List every key"),
    Key("quit", "q", "quit", "quit", "Quit (asks when uploads are running)"),
)


APP_WIDE = frozenset({"quit", "help"})
"""Keys that work over any screen, dialogs included; the rest belong to the main screen."""


def app_bindings() -> list[Binding]:
    return [_binding(k) for k in KEYS if k.action in APP_WIDE]


def screen_bindings() -> list[Binding]:
    """The main screen's keys, with help and quit first: the footer shows the keys in this order
    and cuts the last ones at 80 columns, and these two must stay (the app's own bindings of
    them come after every screen's in the footer). The rest are in help and the palette."""
    first = [
        Binding(k.key, f"app.{k.action}", k.label, show=k.show, id=k.binding_id)
        for k in KEYS
        if k.action in APP_WIDE
    ]
    return first + [_binding(k) for k in KEYS if not k.table and k.action not in APP_WIDE]


def _binding(k: Key) -> Binding:
    return Binding(k.key, k.action, k.label, show=k.show, id=k.binding_id)


def table_bindings() -> list[Binding]:
    return [_binding(k) for k in KEYS if k.table]


def palette_action(key: Key) -> str:
    """The app action a palette entry runs (the table's enter opens details through the app)."""
    return "details" if key.table else key.action


def key_display(key: Key) -> str:
    return {"slash": "/", "question_mark": "?", "enter": "enter"}.get(key.key, key.key)
