"""What the spec interpreter tells an observer while it runs a flow (`filehost-tui hosts test`).

The interpreter reports from the places it already passes through, after each request and after
each extraction, so a trace shows what an upload really does rather than a second rendition of it.
Values may hold secrets (a login token, a session id): whoever shows them masks them first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestSent:
    step: str
    method: str
    url: str  # as sent, query included
    status: int
    seconds: float


@dataclass(frozen=True)
class ValuesExtracted:
    step: str
    values: Mapping[str, Any]


TraceEvent = RequestSent | ValuesExtracted
Observer = Callable[[TraceEvent], None]
