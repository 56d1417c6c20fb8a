"""Writing long listings to stdout as they are read: a page at a time, flushed, so the first line
shows at once and memory does not grow with the number of rows."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable


def stream_lines(lines: Iterable[str], every: int = 1000) -> None:
    """Write each line, flushing every `every` lines. A reader that left (`status --all | head`)
    ends the listing quietly instead of with a traceback."""
    out = sys.stdout
    try:
        for n, line in enumerate(lines, 1):
            out.write(line)
            if n % every == 0 or n == 1:
                out.flush()
        out.flush()
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            # or Python reports the broken pipe again when it flushes stdout at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, out.fileno())
            finally:
                os.close(devnull)
