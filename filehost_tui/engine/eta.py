"""Time left, from the speed meter's rates (docs/architecture.md, 'The speed meter').

Pure functions: the faces pass bytes left and a rate; tests pass numbers.
"""

from __future__ import annotations

from collections.abc import Mapping


def eta_seconds(remaining: int, bytes_per_s: float) -> float | None:
    """Seconds until `remaining` bytes are sent at `bytes_per_s`; None while nothing moves."""
    if bytes_per_s <= 0 or remaining < 0:
        return None
    return remaining / bytes_per_s


def upload_eta(uploaded: int, total: int, bytes_per_s: float) -> float | None:
    """One transfer's time left at its own rate."""
    return eta_seconds(max(0, total - uploaded), bytes_per_s)


def queue_eta(bytes_left: Mapping[str, int], rates: Mapping[str, float]) -> float | None:
    """The whole queue: every byte left, over the total rate now. None while nothing moves or
    nothing is left."""
    left = sum(bytes_left.values())
    return eta_seconds(left, sum(rates.values())) if left else None


def upload_shares(rates: Mapping[str, float], sending: Mapping[str, int]) -> dict[str, float]:
    """Each upload's share of its host's rate, for a reader that has only the host's rate (a
    `status` in another process reads the meter's samples): the host's rate over its uploads
    sending."""
    return {h: rate / sending[h] for h, rate in rates.items() if sending.get(h)}
