"""Reading the queue at any size: every query is a bounded, indexed page, so its cost follows what is
shown, not how much history the database holds.

Pages are keyset pages in upload-id order. A filter on several statuses or hosts becomes one query
per (host, status) pair, each an ordered range of one index, merged here: SQLite would otherwise sort
every match before returning the first row.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import peewee

from filehost_tui.engine.pg_database import is_postgres
from filehost_tui.engine.states import Status

ATTENTION = (Status.PENDING, Status.UPLOADING, Status.PAUSED, Status.FAILED)
"""What a user must see at any size: work still to do, and failures waiting for a decision."""
HISTORY = (Status.COMPLETED, Status.CANCELLED)
ALL_STATUSES = tuple(Status)
CHUNK = 1000

_COLUMNS = (
    "u.id, u.item_id, i.name, u.host_name, u.status, u.uploaded_bytes, u.total_bytes, "
    "u.retry_count, u.error_kind, u.error_message, u.download_url, u.next_attempt_ts, "
    "u.file_id, u.created_ts, u.volume, u.volumes, u.runner, u.ran_by"
)
_FROM = "FROM file_host_uploads u JOIN items i ON i.id = u.item_id"
OPEN_STATUSES = (Status.PENDING, Status.UPLOADING, Status.PAUSED)


class UploadRow(NamedTuple):
    """One upload as listings show it. A named tuple, not a dataclass: a million of them are made
    for `status --json`, and a frozen dataclass costs several times as much to build."""

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
    file_id: str | None = None
    created_ts: float = 0.0
    volume: int = 0  # 1..volumes for a slice of the item; 0 = the whole item
    volumes: int = 0
    runner: str = ""  # the runner that may take it; "" = any runner
    ran_by: str = ""  # the runner that claimed it last: holds it, or finished it

    @property
    def finished(self) -> bool:
        return self.status not in OPEN_STATUSES


@dataclass(frozen=True)
class UploadFilter:
    """Which uploads a listing shows; empty tuples mean any."""

    statuses: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    since_ts: float | None = None
    """Only uploads queued at or after this time."""
    item_id: int | None = None


class QueueReads:
    def __init__(self, db: peewee.Database, *, chunk: int = CHUNK) -> None:
        self.db = db
        self.chunk = chunk

    # ---- pages ------------------------------------------------------------------------------

    def iter_rows(self, flt: UploadFilter = UploadFilter()) -> Iterator[UploadRow]:
        """Every matching upload in queue order, read one page at a time (memory stays flat)."""
        if flt.item_id is not None:
            yield from self._item_rows(flt)
            return
        after = self._first_id(flt) - 1
        while True:
            page = self._page(flt, after=after, before=None, limit=self.chunk, descending=False)
            if not page:
                return
            yield from page
            after = page[-1].id

    def newest(
        self, flt: UploadFilter, limit: int, *, before: int | None = None
    ) -> list[UploadRow]:
        """The `limit` newest matching uploads below id `before`, newest first."""
        if flt.item_id is not None:
            rows = [r for r in self._item_rows(flt) if before is None or r.id < before]
            return rows[::-1][:limit]
        floor = self._first_id(flt) - 1
        return self._page(flt, after=floor, before=before, limit=limit, descending=True)

    def _page(
        self, flt: UploadFilter, *, after: int, before: int | None, limit: int, descending: bool
    ) -> list[UploadRow]:
        parts = []
        for cond, params in self._parts(flt):
            where = [cond] if cond else []
            where.append("u.id > ?")  # always a range: an open-ended page is a bounded search
            args = [*params, after]
            if before is not None:
                where.append("u.id < ?")
                args.append(before)
            order = "DESC" if descending else "ASC"
            sql = f"SELECT {_COLUMNS} {_FROM}"
            if where:
                sql += " WHERE " + " AND ".join(where)
            sql += f" ORDER BY u.id {order} LIMIT ?"
            rows = list(map(UploadRow._make, self.db.execute_sql(sql, [*args, limit]).fetchall()))
            parts.append(rows)
        key = (lambda r: -r.id) if descending else (lambda r: r.id)
        return list(heapq.merge(*parts, key=key))[:limit]

    def _parts(self, flt: UploadFilter) -> list[tuple[str, tuple]]:
        """One (condition, params) per index range; together they cover exactly the filter."""
        if flt.hosts:
            statuses = flt.statuses or ALL_STATUSES
            return [
                ("u.host_name = ? AND u.status = ?", (h, str(s)))
                for h in flt.hosts
                for s in statuses
            ]
        if flt.statuses:
            return [("u.status = ?", (str(s),)) for s in flt.statuses]
        return [("", ())]

    def rows_by_id(self, ids: Sequence[int]) -> Iterator[UploadRow]:
        """The given uploads in id order, looked up a page at a time."""
        wanted = sorted(ids)
        for start in range(0, len(wanted), self.chunk):
            page = wanted[start : start + self.chunk]
            sql = f"SELECT {_COLUMNS} {_FROM} WHERE u.id IN ({_marks(page)}) ORDER BY u.id"
            yield from (UploadRow(*t) for t in self.db.execute_sql(sql, page).fetchall())

    def _item_rows(self, flt: UploadFilter) -> list[UploadRow]:
        """An item has one upload per host: read them all by the item index, filter here (with
        status or host in the WHERE, SQLite may walk a status index over all history instead)."""
        sql = f"SELECT {_COLUMNS} {_FROM} WHERE u.item_id = ? ORDER BY u.id"
        first = self._first_id(flt)
        return [
            row
            for row in (UploadRow(*t) for t in self.db.execute_sql(sql, (flt.item_id,)).fetchall())
            if row.id >= first
            and (not flt.statuses or row.status in flt.statuses)
            and (not flt.hosts or row.host in flt.hosts)
        ]

    def _first_id(self, flt: UploadFilter) -> int:
        """Queued-since as an id bound: ids grow with created_ts, so one index probe replaces a
        time range that no single index could serve together with host and status."""
        if flt.since_ts is None:
            return 0
        row = self.db.execute_sql(
            "SELECT id FROM file_host_uploads WHERE created_ts >= ? ORDER BY created_ts LIMIT 1",
            (flt.since_ts,),
        ).fetchone()
        return row[0] if row else 2**62

    def search_names(self, words: Sequence[str], limit: int) -> list[UploadRow]:
        """Uploads of the newest `limit` items whose name holds every word, in any case (3+
        characters each: the name index is of trigrams, FTS5's on SQLite, pg_trgm's on
        PostgreSQL)."""
        if is_postgres(self.db):
            names = " AND ".join("name ILIKE ?" for _ in words)
            args: tuple = (*("%" + _like_escaped(w) + "%" for w in words), limit)
            matches = f"SELECT id FROM items WHERE {names} ORDER BY id DESC LIMIT ?"
        else:
            args = (" AND ".join('"' + w.replace('"', '""') + '"' for w in words), limit)
            matches = (
                "SELECT rowid FROM item_names WHERE item_names MATCH ? ORDER BY rowid DESC LIMIT ?"
            )
        sql = f"SELECT {_COLUMNS} {_FROM} WHERE u.item_id IN ({matches}) ORDER BY u.id DESC"
        return [UploadRow(*t) for t in self.db.execute_sql(sql, args).fetchall()]

    # ---- what changed, and how many --------------------------------------------------------

    def last_change(self) -> int:
        row = self.db.execute_sql("SELECT MAX(change_seq) FROM file_host_uploads").fetchone()
        return int(row[0] or 0)

    def changed_since(self, seq: int) -> tuple[list[UploadRow], int]:
        """Rows written after change number `seq`, and the number to ask from next time."""
        sql = (
            f"SELECT {_COLUMNS}, u.change_seq {_FROM} WHERE u.change_seq > ? "
            "ORDER BY u.change_seq LIMIT ?"
        )
        rows: list[UploadRow] = []
        while True:
            batch = self.db.execute_sql(sql, (seq, self.chunk)).fetchall()
            rows.extend(UploadRow(*t[:-1]) for t in batch)
            if batch:
                seq = batch[-1][-1]
            if len(batch) < self.chunk:
                return rows, seq

    def item_names(self, from_id: int, limit: int) -> dict[int, str]:
        """Names of the items from `from_id` on: uploads mostly start in item order, so one read
        names the next ones too."""
        sql = "SELECT id, name FROM items WHERE id >= ? ORDER BY id LIMIT ?"
        return dict(self.db.execute_sql(sql, (from_id, limit)).fetchall())

    def hosts_waiting_outside(self, hosts: Sequence[str]) -> list[str]:
        """Hosts other than `hosts` with pending uploads (disabled or unknown to this runner)."""
        sql = (
            "SELECT DISTINCT host_name FROM upload_counts WHERE status = ? AND n > 0 "
            f"AND host_name NOT IN ({_marks(hosts)}) ORDER BY host_name"
        )
        return [r[0] for r in self.db.execute_sql(sql, (Status.PENDING.value, *hosts)).fetchall()]

    def has_open(
        self, hosts: Sequence[str], held_leases: Sequence[str], takers: Sequence[str] = ("",)
    ) -> bool:
        """A pending or uploading row of `hosts` that a runner may take whose own and anyone's
        rows are `takers` (runner names), or a paused one whose attempt (one of `held_leases`)
        is still collecting its link. Two index searches: an OR of both would walk the whole
        table."""
        if not hosts:
            return False
        sql = (
            f"SELECT 1 FROM file_host_uploads WHERE host_name IN ({_marks(hosts)}) "
            f"AND status IN (?, ?) AND runner IN ({_marks(takers)}) LIMIT 1"
        )
        args = (*hosts, Status.PENDING.value, Status.UPLOADING.value, *takers)
        if self.db.execute_sql(sql, args).fetchone():
            return True
        if not held_leases:
            return False
        sql = (
            f"SELECT 1 FROM file_host_uploads WHERE host_name IN ({_marks(hosts)}) "
            f"AND status = ? AND lease_owner IN ({_marks(held_leases)}) LIMIT 1"
        )
        args = (*hosts, Status.PAUSED.value, *held_leases)
        return self.db.execute_sql(sql, args).fetchone() is not None

    def ids_with_status(self, statuses: Sequence[Status]) -> list[int]:
        """Every upload in these statuses, in queue order (pause all, resume all)."""
        sql = f"SELECT id FROM file_host_uploads WHERE status IN ({_marks(statuses)}) ORDER BY id"
        return [r[0] for r in self.db.execute_sql(sql, [s.value for s in statuses]).fetchall()]

    def bytes_left(self) -> dict[str, int]:
        """Bytes still to send per host: what pending uploads hold and what uploading ones have
        not sent (an index search over open rows only)."""
        sql = (
            "SELECT host_name, SUM(CASE WHEN status = ? THEN total_bytes - uploaded_bytes "
            "ELSE total_bytes END) FROM file_host_uploads WHERE status IN (?, ?) GROUP BY host_name"
        )
        up, pending = Status.UPLOADING.value, Status.PENDING.value
        rows = self.db.execute_sql(sql, (up, pending, up)).fetchall()
        return {h: max(0, int(n or 0)) for h, n in rows}

    def counts(self) -> dict[tuple[str, str], int]:
        """Uploads per (host, status), kept by triggers (see scale_schema)."""
        rows = self.db.execute_sql(
            "SELECT host_name, status, n FROM upload_counts WHERE n > 0"
        ).fetchall()
        return {(h, s): n for h, s, n in rows}

    def count(self, flt: UploadFilter) -> int:
        """How many uploads match a host/status filter (from the counts, no rows read)."""
        return sum(
            n
            for (host, status), n in self.counts().items()
            if (not flt.hosts or host in flt.hosts) and (not flt.statuses or status in flt.statuses)
        )


def _like_escaped(word: str) -> str:
    """A word matched as itself by LIKE: its %, _ and backslashes are not patterns."""
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)
