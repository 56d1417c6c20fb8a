"""Ages as people type them (`7d`, `12h`): the CLI's --since and --finished-before, and the TUI's
`since:` filter word."""

from __future__ import annotations

import re

UNITS = {"m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}


def parse_age(text: str) -> float | None:
    """Seconds in "30m", "12h", "7d" or "2w"; None for anything else."""
    match = re.fullmatch(r"(\d{1,6})([mhdw])", text.strip())
    return int(match.group(1)) * UNITS[match.group(2)] if match else None
