"""The pause dialogs. Stopping a transfer throws away what it has sent (no host takes the rest of a
partial upload: docs/architecture.md, 'Pause and drain'), so pausing one that has sent more than
ASK_FROM_BYTES asks first and names the bytes. Enter takes the focused button: "finish running,
start nothing new" for `P`, "keep going" for `p` on one upload; escape changes nothing.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label

ASK_FROM_BYTES = 4 * 1024 * 1024
"""A pause that would throw away less than this (a few seconds of a slow line) just happens."""

DRAIN = "drain"
STOP = "stop"


def thrown_away(sent: int, total: int) -> int:
    """The bytes a pause now sends again later: all that was sent, unless every byte was (that
    attempt may still collect its link)."""
    return sent if sent < total else 0


class _PauseChoice(ModalScreen[str | None]):
    """A question and its buttons; dismissed with DRAIN, STOP or None (nothing changes)."""

    CHOICES: ClassVar[tuple[tuple[str, str], ...]]  # (button id, label)
    DEFAULT: ClassVar[str]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="pause-dialog"):
            yield Label(Text(self.question), id="pause-question")  # a name is not markup
            with Horizontal(classes="buttons"):
                for answer, label in self.CHOICES:
                    variant = "error" if answer == STOP else "default"
                    yield Button(label, id=answer, variant=variant, compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(f"#{self.DEFAULT}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id or "")

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer if answer in (DRAIN, STOP) else None)


class PauseAllScreen(_PauseChoice):
    """`P` while transfers run: drain is the default, as download managers do."""

    BINDINGS = [
        Binding("f", "answer('drain')", "finish running", id="filehost.pause_all.drain"),
        Binding("s", "answer('stop')", "stop now", id="filehost.pause_all.stop"),
        Binding("escape", "answer('back')", "back", id="filehost.pause_all.back"),
    ]
    CHOICES = ((DRAIN, "Finish running, start nothing new (f)"), (STOP, "Stop now (s)"))
    DEFAULT = DRAIN


class PauseOneScreen(_PauseChoice):
    """`p` on a transfer under way: stop it now, or let it go on (the default)."""

    BINDINGS = [
        Binding("s", "answer('stop')", "stop now", id="filehost.pause_one.stop"),
        Binding("k,escape", "answer('keep')", "keep going", id="filehost.pause_one.keep"),
    ]
    CHOICES = ((STOP, "Stop now (s)"), ("keep", "Keep going (k)"))
    DEFAULT = "keep"
