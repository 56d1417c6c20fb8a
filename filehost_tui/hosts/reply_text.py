"""A host's reply body as a person reads it, for the one line an error message quotes.

Hosts answer errors with whole HTML pages as often as with JSON; quoting the markup would leave a
user with `<h1>Error r…`. The text is also where a host echoes what it was sent, so secrets are
masked before the line is cut (a cut through a secret would leave its head unmasked), and control
characters a host put there are shown as \\xNN instead of reaching a terminal.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from filehost_tui.printable import cut, printable
from filehost_tui.redact import scrub

_HTML = re.compile(r"(?i)<(?:!doctype\s+html|html|head|body|title|h[1-6]|p|div|pre|center|br)\b")
_SKIPPED = frozenset({"head", "title", "script", "style"})


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        self.parts.append(" ")  # <h1>Error</h1><p>Message → "Error Message"

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED and self._skipping:
            self._skipping -= 1
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def readable(text: str) -> str:
    """The text of an HTML page (the head left out); anything else as it came."""
    if not _HTML.search(text):
        return text
    parser = _TextOf()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def excerpt(text: str, limit: int = 120) -> str:
    """One line of at most `limit` characters: enough to recognise a reply, short enough to log."""
    flat = printable(" ".join(scrub(readable(text)).split()))
    return cut(flat, limit)
