"""The `/` filter line: typing filters live, enter keeps it, escape clears it."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FilterBar(Input):
    BINDINGS = [Binding("escape", "clear_filter", "clear filter", id="filehost.filter.clear")]

    class Closed(Message):
        def __init__(self, keep: bool) -> None:
            super().__init__()
            self.keep = keep

    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder="filter: words, host:ID, status:NAME", **kwargs)

    def action_clear_filter(self) -> None:
        self.value = ""
        self.post_message(self.Closed(keep=False))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Closed(keep=True))
