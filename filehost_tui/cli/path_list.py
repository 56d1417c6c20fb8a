"""`add --from FILE|-`: the paths to queue, one per line or NUL-separated (`-0`, as from
`find -print0`), so tens of thousands of files are queued by one command in one transaction."""

from __future__ import annotations

import os
import sys

from filehost_tui.errors import UserError


def read_paths(source: str, nul: bool) -> list[str]:
    """Paths as the file holds them (any bytes a file name may hold); blank entries are skipped."""
    where = "standard input" if source == "-" else source
    try:
        if source == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(source, "rb") as fh:
                data = fh.read()
    except OSError as exc:
        raise UserError(f"cannot read the path list {where}: {exc.strerror}; check it") from None
    if nul:
        entries = data.split(b"\0")
    else:
        entries = [line.removesuffix(b"\r") for line in data.split(b"\n")]
    paths = [os.fsdecode(e) for e in entries if e]
    if not paths:
        raise UserError(f"the path list {where} names no path; give one path per line")
    return paths
