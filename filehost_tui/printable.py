"""Text from outside (file names, host replies) made safe to print as one line on a terminal.

A file name may hold a newline or an escape sequence: printed raw it would forge a line of
`status` or of the log, or send commands to the terminal. Control characters are shown as \\xNN,
and so are the undecodable bytes of a file name (which a UTF-8 terminal could not be sent).
"""

from __future__ import annotations

import re

from filehost_tui.file_names import diagnostic_text

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", diagnostic_text(text))


def cut(text: str, width: int) -> str:
    """`text` in at most `width` characters; a cut ends in `…`, so it never passes for the whole."""
    return text if len(text) <= width else text[: width - 1] + "…"
