"""Sizes and speeds, one notation everywhere: the CLI, the runner's lines and the TUI.

Binary units written unambiguously (`KiB`, `MiB`, `GiB`), because hosts state their limits and
users their caps in powers of 1024, and a bare `M` leaves a reader guessing between 10^6 and 2^20.
At most three significant figures and no space, as `ls -h` prints them, so a size fits in six
columns and a speed in eight: `999B`, `1.5KiB`, `12MiB`, `700MiB`, `3.0GiB`, `2.4MiB/s`.
"""

from __future__ import annotations

import re

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def human_size(n: float) -> str:
    """Bytes as `999B`, `1.5KiB`, `12MiB`: one decimal below 10, none from 10 on."""
    value = float(n)
    for unit in _UNITS:
        last = unit == _UNITS[-1]
        if unit != "B" and abs(value) < 9.95:
            return f"{value:.1f}{unit}"
        if abs(value) < 999.5 or last:
            return f"{value:.0f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_speed(bytes_per_s: float) -> str:
    """Bytes per second in the same notation: `2.4MiB/s`."""
    return f"{human_size(bytes_per_s)}/s"


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?", re.IGNORECASE)
_FACTORS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """Bytes from "1M", "512K", "1.5 GiB" or "1048576" (binary units); ValueError otherwise."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a size")
    return int(float(match.group(1)) * _FACTORS[match.group(2).lower()])
