"""What the screen shows, read from the database as plain frozen rows (no Textual here).

The database is the truth for statuses in both modes (in-process and attached), so the UI reads it
about once a second. Reads stay cheap on a 10,000-row queue: after the first load only rows that are
new, still open, or were open last time are fetched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import peewee

from filehost_tui.engine.models import FileHostUpload, Item
from filehost_tui.engine.states import FINISHED, Status

OPEN_STATUSES = tuple(s.value for s in Status if s not in FINISHED)
_CHUNK = 500


@dataclass(frozen=True)
class UploadRow:
    id: int
    item_id: int
    item: str
    host: str
    status: str
    uploaded: int
    total: int
    retries: int
    error_kind: str | None
    error_message: str | None
    url: str | None
    next_attempt_ts: float

    @property
    def finished(self) -> bool:
        return self.status not in OPEN_STATUSES


@dataclass(frozen=True)
class HostSummary:
    """One host's counts and trouble, as the hosts panel shows it."""

    host: str
    active: int = 0
    queued: int = 0
    done: int = 0
    failed: int = 0
    paused: int = 0
    active_uploaded: int = 0
    active_total: int = 0
    backoff_until: float | None = None
    auth_failing: bool = False

    @property
    def is_paused(self) -> bool:
        """Paused work and nothing else waiting or moving: the host is at rest by the user's hand."""
        return self.paused > 0 and self.active == 0 and self.queued == 0


def _select() -> peewee.ModelSelect:
    u = FileHostUpload
    return (
        u.select(
            u.id,
            Item.id,
            Item.name,
            u.host_name,
            u.status,
            u.uploaded_bytes,
            u.total_bytes,
            u.retry_count,
            u.error_kind,
            u.error_message,
            u.download_url,
            u.next_attempt_ts,
        )
        .join(Item)
        .order_by(u.id)
        .tuples()
    )


def load_rows() -> list[UploadRow]:
    """Every upload in queue order."""
    return [UploadRow(*t) for t in _select()]


def rows_by_id(ids: Iterable[int]) -> list[UploadRow]:
    wanted = list(ids)
    out: list[UploadRow] = []
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i : i + _CHUNK]
        out.extend(UploadRow(*t) for t in _select().where(FileHostUpload.id.in_(chunk)))
    return out


def changed_rows(max_id: int, open_ids: set[int]) -> list[UploadRow]:
    """Rows that may differ from what the screen holds: new ones, open ones, and ones that were
    open last time (they may have finished meanwhile)."""
    u = FileHostUpload
    rows = [
        UploadRow(*t) for t in _select().where((u.id > max_id) | u.status.in_(list(OPEN_STATUSES)))
    ]
    seen = {r.id for r in rows}
    rows.extend(rows_by_id(sorted(open_ids - seen)))
    return rows


def host_summaries(now: float) -> dict[str, HostSummary]:
    """Counts per host and status, the bytes of active transfers, and signs of trouble."""
    u = FileHostUpload
    counts: dict[str, dict[str, int]] = {}
    active_bytes: dict[str, tuple[int, int]] = {}
    query = u.select(
        u.host_name,
        u.status,
        peewee.fn.COUNT(u.id),
        peewee.fn.SUM(u.uploaded_bytes),
        peewee.fn.SUM(u.total_bytes),
    ).group_by(u.host_name, u.status)
    for host, status, n, done, total in query.tuples():
        counts.setdefault(host, {})[status] = n
        if status == Status.UPLOADING:
            active_bytes[host] = (int(done or 0), int(total or 0))
    next_due = dict(
        u.select(u.host_name, peewee.fn.MIN(u.next_attempt_ts))
        .where(u.status == Status.PENDING)
        .group_by(u.host_name)
        .tuples()
    )
    auth = {
        h
        for (h,) in u.select(u.host_name)
        .where((u.error_kind == "auth") & u.status.in_([Status.PENDING, Status.FAILED]))
        .distinct()
        .tuples()
    }
    result = {}
    for host, c in counts.items():
        due = next_due.get(host)
        done, total = active_bytes.get(host, (0, 0))
        result[host] = HostSummary(
            host=host,
            active=c.get(Status.UPLOADING, 0),
            queued=c.get(Status.PENDING, 0),
            done=c.get(Status.COMPLETED, 0),
            failed=c.get(Status.FAILED, 0),
            paused=c.get(Status.PAUSED, 0),
            active_uploaded=done,
            active_total=total,
            backoff_until=due if due is not None and due > now else None,
            auth_failing=host in auth,
        )
    return result
