"""Text cut to its column with a mark: a cut never passes for the whole text.

Names and errors keep their start and end in `…`; a link keeps its end (the file id, which tells
two links apart) and starts with `…`. Both measure the width they are given when drawn, so a
resize needs no new text (docs/architecture.md, 'Fitting the screen').
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

ELLIPSIS = "…"


def head(text: str, style: str = "") -> Text:
    """`text` in one line; cut, it ends in `…`."""
    return Text(text, style=style, no_wrap=True, overflow="ellipsis", end="")


def keep_end(text: str, width: int) -> str:
    """The last characters of `text` that fit `width` cells after a leading `…`."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    kept = ""
    for char in reversed(text):
        if cell_len(kept) + cell_len(char) > width - 1:
            break
        kept = char + kept
    return ELLIPSIS + kept


@dataclass(frozen=True)
class Tail:
    """A one-line text that, when too wide, keeps its end: `…/f/abc123`."""

    text: str
    style: str = ""

    def __str__(self) -> str:
        return self.text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text(keep_end(self.text, options.max_width), style=self.style, no_wrap=True, end="")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = cell_len(self.text)
        return Measurement(min(width, 1), width)
