"""Sizes, speeds and durations as people read them (binary units, one decimal)."""

from __future__ import annotations

import math
import re


def human_size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


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
