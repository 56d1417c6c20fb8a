"""Queued misbehaviour for the fake hosts.

Tests say what should go wrong next ("the next upload gets a 503") instead of subclassing the
server; the queue is consulted once per request, in order, so faults fire deterministically even
when several client threads talk to one fake at the same time.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

# Kinds the server itself acts on (no family code involved) and kinds a family interprets.
SERVER_KINDS = frozenset(
    {
        "status",
        "reset",
        "stall",
        "early_413",
        "garbage",
        "flood",
        "rate_limit_body",
        "throttle",
        "redirect",
        "reply",
    }
)
FAMILY_KINDS = frozenset({"no_link", "expired_token", "processing", "quota"})
KINDS = SERVER_KINDS | FAMILY_KINDS

# Kinds whose natural target is the step that carries the link rather than the upload itself.
LINK_STEP_KINDS = frozenset({"garbage", "no_link"})


@dataclass
class Fault:
    """One queued fault: fires on the next `times` requests of its target step."""

    kind: str
    times: int = 1
    params: dict[str, Any] = field(default_factory=dict)

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


def _targets(fault: Fault, *, link_step: str, token_steps: Collection[str]) -> Collection[str]:
    """The steps a fault applies to: an explicit `step=` wins, else the kind's natural step."""
    step = fault.param("step")
    if step:
        return (step,)
    if fault.kind == "expired_token":
        return tuple(token_steps) or ("upload",)
    if fault.kind in LINK_STEP_KINDS:
        return (link_step,)
    if fault.kind == "processing":
        return ("poll",)
    return ("upload",)


class FaultQueue:
    """Thread-safe FIFO of faults; `take` hands out at most one fault per request."""

    def __init__(self, *, link_step: str, token_steps: Collection[str]) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._link_step = link_step
        self._token_steps = tuple(token_steps)

    def add(self, kind: str, times: int = 1, **params: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(sorted(KINDS))}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(Fault(kind, times, dict(params)))

    def take(self, step: str) -> Fault | None:
        """Consume one firing of the first queued fault that targets `step`."""
        with self._lock:
            for fault in self._faults:
                targets = _targets(fault, link_step=self._link_step, token_steps=self._token_steps)
                if step in targets:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return Fault(fault.kind, 1, dict(fault.params))
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return [Fault(f.kind, f.times, dict(f.params)) for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
