"""Sizes and speeds, one notation everywhere: the CLI, the runner's lines and the TUI.

Binary units written unambiguously (`KiB`, `MiB`, `GiB`), because hosts state their limits and
users their caps in powers of 1024, and a bare `M` leaves a reader guessing between 10^6 and 2^20.
At most three significant figures and no space, as `ls -h` prints them, so a size fits in six
columns and a speed in eight: `999B`, `1.5KiB`, `12MiB`, `700MiB`, `3.0GiB`, `2.4MiB/s`.
Durations (time left) fit in five: `45s`, `4m10s`, `1h05m`.
"""

from __future__ import annotations

import math
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


def human_duration(seconds: float) -> str:
    """Time left in at most 5 characters, rounded up: '45s', '4m10s', '12m', '1h05m', '3d'."""
    s = max(1, math.ceil(seconds))
    if s < 60:
        return f"{s}s"
    if s < 600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 3600:
        return f"{math.ceil(s / 60)}m"
    m = math.ceil(s / 60)
    if m < 100 * 60:
        return f"{m // 60}h{m % 60:02d}m"
    return f"{math.ceil(s / 86400)}d"


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?", re.IGNORECASE)
_FACTORS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """Bytes from "1M", "512K", "1.5 GiB" or "1048576" (binary units); ValueError otherwise."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a size")
    return int(float(match.group(1)) * _FACTORS[match.group(2).lower()])
