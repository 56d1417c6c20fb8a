"""What the screen shows, read from the database as plain frozen rows (no Textual here).

The database is the truth for statuses in both modes (in-process and attached), so the UI reads it
about once a second. Every read is bounded by the screen, not the history: the first one takes a
window (everything unfinished or failed, and the latest finished uploads), later ones only the rows
written since (by change number), and counts come from the per-(host, status) counters.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection
from dataclasses import dataclass

from filehost_tui.ages import parse_age
from filehost_tui.engine.models import FileHostUpload
from filehost_tui.engine.queue_reads import (
    ALL_STATUSES,
    ATTENTION,
    HISTORY,
    QueueReads,
    UploadFilter,
    UploadRow,
)
from filehost_tui.engine.states import Status

__all__ = ["HostSummary", "UploadRow", "item_label", "shown_phase"]
# UploadRow: the table and messages import it from here


STATUS_WIDTH = 10
"""Characters of the uploads table's status column: `uploading`, `retry 10m`, `volume 2/5`."""


def item_label(row: UploadRow) -> str:
    """The item column. An item's volumes for a host are consecutive uploads, so their rows
    stand together in volume order; each reads as part of one group and says which volume it
    is before the name, where a narrow column still shows it: `┌ 1/3 Trip`, `├ 2/3 Trip`,
    `└ 3/3 Trip`."""
    if not row.volumes:
        return row.item
    mark = "┌" if row.volume == 1 else "└" if row.volume == row.volumes else "├"
    return f"{mark} {row.volume}/{row.volumes} {row.item}"


def shown_phase(row: UploadRow, phase: str) -> str:
    """A running upload's status: a volume sending its bytes says which volume it is
    (`volume 2/5`, or `vol 12/30` where that would not fit), attached to a runner too, whose
    phase this process does not know; other phases (`hashing`) as the engine says them."""
    volume = f"{row.volume}/{row.volumes}"
    if not row.volumes or phase not in ("uploading", f"volume {volume}"):
        return phase
    return f"volume {volume}" if len(f"volume {volume}") <= STATUS_WIDTH else f"vol {volume}"


def _reads() -> QueueReads:
    """The models are bound to the one database this process works on (see database.py)."""
    return QueueReads(FileHostUpload._meta.database)


def load_window(finished: int) -> tuple[list[UploadRow], int]:
    """Every upload that needs attention plus the `finished` latest history rows, in queue order,
    and the change number they are current to (read first: a write in between is read again)."""
    reads = _reads()
    seq = reads.last_change()
    attention = reads.iter_rows(UploadFilter(statuses=ATTENTION))
    recent = reads.newest(UploadFilter(statuses=HISTORY), finished)[::-1]
    return list(heapq.merge(attention, recent, key=lambda r: r.id)), seq


def changed_rows(seq: int) -> tuple[list[UploadRow], int]:
    """Rows written since change number `seq`, and the number to read from next time."""
    return _reads().changed_since(seq)


def older_history(before: int | None, limit: int) -> list[UploadRow]:
    """The `limit` finished uploads just older than upload `before`, newest first."""
    return _reads().newest(UploadFilter(statuses=HISTORY), limit, before=before)


def search_history(text: str, now: float, limit: int) -> list[UploadRow]:
    """The `/` filter over the whole history, as indexed queries: `host:` and `status:` prefixes
    and `since:7d` narrow an index range; other words of 3+ characters search item names (the
    name index holds trigrams). The table applies the full filter to what comes back."""
    reads = _reads()
    hosts = {h for h, _ in reads.counts()}
    wanted_hosts: set[str] | None = None
    statuses: set[str] | None = None
    since: float | None = None
    names: list[str] = []
    for word in text.lower().split():
        field, sep, value = word.partition(":")
        if sep and field == "host":
            found = {h for h in hosts if h.lower().startswith(value)}
            wanted_hosts = found if wanted_hosts is None else wanted_hosts & found
        elif sep and field == "status":
            found = {str(s) for s in ALL_STATUSES if s.startswith(value)}
            statuses = found if statuses is None else statuses & found
        elif sep and field == "since" and parse_age(value) is not None:
            since = now - parse_age(value)
        elif sep and field == "runner":
            continue  # no index: the table's own filter keeps that runner's rows
        elif len(word) >= 3:
            names.append(word)
    if wanted_hosts == set() or statuses == set():
        return []
    flt = UploadFilter(
        statuses=tuple(sorted(statuses or ())),
        hosts=tuple(sorted(wanted_hosts or ())),
        since_ts=since,
    )
    if not names:
        return reads.newest(flt, limit)
    return [
        r
        for r in reads.search_names(names, limit)
        if (not flt.statuses or r.status in flt.statuses)
        and (not flt.hosts or r.host in flt.hosts)
        and (since is None or r.created_ts >= since)
    ]


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
    disabled: bool = False
    """config.toml turns the host off: its pending uploads wait until it is enabled."""
    bytes_left: int = 0
    """What pending uploads hold and uploading ones have not sent: the host line's ETA."""

    @property
    def is_paused(self) -> bool:
        """Paused work and nothing else waiting or moving: the host is at rest by the user's hand."""
        return self.paused > 0 and self.active == 0 and self.queued == 0


def host_summaries(now: float, disabled: Collection[str] = ()) -> dict[str, HostSummary]:
    """Counts per host and status (kept counters), the bytes of active transfers, and signs of
    trouble: each an index search over unfinished rows only. `disabled`: hosts config.toml turns
    off."""
    reads = _reads()
    db = reads.db
    counts: dict[str, dict[str, int]] = {}
    for (host, status), n in reads.counts().items():
        counts.setdefault(host, {})[status] = n
    active_bytes = {
        host: (int(done or 0), int(total or 0))
        for host, done, total in db.execute_sql(
            "SELECT host_name, SUM(uploaded_bytes), SUM(total_bytes) FROM file_host_uploads "
            "WHERE status = ? GROUP BY host_name",
            (str(Status.UPLOADING),),
        ).fetchall()
    }
    auth = {
        h
        for (h,) in db.execute_sql(
            "SELECT DISTINCT host_name FROM file_host_uploads "
            "WHERE status IN (?, ?) AND error_kind = 'auth'",
            (str(Status.PENDING), str(Status.FAILED)),
        ).fetchall()
    }
    left = reads.bytes_left()
    result = {}
    for host, c in counts.items():
        due = None
        if c.get(Status.PENDING):
            (due,) = db.execute_sql(
                "SELECT MIN(next_attempt_ts) FROM file_host_uploads "
                "WHERE host_name = ? AND status = ?",
                (host, str(Status.PENDING)),
            ).fetchone()
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
            disabled=host in disabled,
            bytes_left=left.get(host, 0),
        )
    return result
