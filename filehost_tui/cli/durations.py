"""Ages on the command line (`--since 7d`, `--finished-before 90d`): a number and a unit."""

from __future__ import annotations

import argparse
import re

UNITS = {"m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}


def age_seconds(text: str) -> float:
    """argparse type: "30m", "12h", "7d" or "2w" as seconds; anything else is one clear error."""
    match = re.fullmatch(r"(\d{1,6})([mhdw])", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an age; write a number and a unit m, h, d or w (e.g. 7d)"
        )
    return int(match.group(1)) * UNITS[match.group(2)]
