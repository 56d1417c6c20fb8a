"""Short, fixed-width figures for an 80-column terminal. No Textual here: plain functions, easy to test."""

from __future__ import annotations

from datetime import datetime

from filehost_tui.units import human_duration, human_size, human_speed

size = human_size
"""Sizes in the CLI's notation (units.py): at most 6 characters, '999B', '1.5KiB', '12MiB'."""


def speed(bytes_per_s: float) -> str:
    """'2.4MiB/s' (at most 8 characters); empty when nothing moves, so idle rows stay quiet."""
    return human_speed(bytes_per_s) if bytes_per_s >= 1 else ""


def percent(done: int, total: int) -> str:
    if total <= 0:
        return ""
    return f"{min(100, int(100 * done / total))}%"


def countdown(seconds: float) -> str:
    """'45s', '3m', '2h': how long until a retry, rounded up so '0s' never shows while waiting."""
    s = max(1, int(seconds + 0.999))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{(s + 59) // 60}m"
    return f"{(s + 3599) // 3600}h"


def eta(seconds: float | None) -> str:
    """Time left, '4m10s'; empty when unknown (nothing moves), so a waiting row stays quiet."""
    return "" if seconds is None else human_duration(seconds)


def short_link(url: str) -> str:
    """A link without its scheme: the part worth seeing in a narrow column."""
    for prefix in ("https://", "http://"):
        if url.startswith(prefix):
            return url[len(prefix) :]
    return url


def short_error(kind: str | None, message: str | None) -> str:
    """The error kind and the first line of its message."""
    first = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    if kind and first:
        return f"{kind}: {first}"
    return kind or first


def timestamp(ts: float | None) -> str:
    """Local wall-clock time, to the second; '-' when the moment has not come."""
    if not ts:
        return "-"
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
