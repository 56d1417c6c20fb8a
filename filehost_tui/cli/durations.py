"""Ages on the command line (`--since 7d`, `--finished-before 90d`): a number and a unit."""

from __future__ import annotations

import argparse

from filehost_tui.ages import parse_age


def age_seconds(text: str) -> float:
    """argparse type: an age as seconds; anything else is one clear error."""
    seconds = parse_age(text)
    if seconds is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an age; write a number and a unit m, h, d or w (e.g. 7d)"
        )
    return seconds
