"""Forgetting old history (`prune`): completed and cancelled uploads finished before a time, and
their items once no upload of them is left. Failed uploads wait for a decision and unfinished ones
are work, so neither is touched; upload_metrics rows stay, so statistics keep counting them.

Rows go a page at a time, each page its own transaction: a runner writing progress meanwhile
waits for one page, not for the whole history.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from filehost_tui.engine.queue_reads import HISTORY

PAGE = 5000
_PRUNABLE = f"status IN ({', '.join(repr(str(s)) for s in HISTORY)}) AND finished_ts < ?"


@dataclass(frozen=True)
class Pruned:
    uploads: int
    items: int


def count_prunable(db: peewee.SqliteDatabase, before_ts: float) -> Pruned:
    """What prune_history would remove, without removing it."""
    (uploads,) = db.execute_sql(
        f"SELECT COUNT(*) FROM file_host_uploads WHERE {_PRUNABLE}", (before_ts,)
    ).fetchone()
    (items,) = db.execute_sql(
        f"SELECT COUNT(DISTINCT u.item_id) FROM file_host_uploads u WHERE u.{_PRUNABLE} "
        "AND NOT EXISTS (SELECT 1 FROM file_host_uploads o WHERE o.item_id = u.item_id "
        f"AND NOT (o.{_PRUNABLE}))",
        (before_ts, before_ts),
    ).fetchone()
    return Pruned(uploads, items)


def prune_history(db: peewee.SqliteDatabase, before_ts: float) -> Pruned:
    uploads = items = 0
    while True:
        with db.atomic():
            page = db.execute_sql(
                f"SELECT id, item_id FROM file_host_uploads WHERE {_PRUNABLE} LIMIT {PAGE}",
                (before_ts,),
            ).fetchall()
            if not page:
                return Pruned(uploads, items)
            ids = [i for i, _ in page]
            item_ids = sorted({item for _, item in page})
            db.execute_sql(f"DELETE FROM file_host_uploads WHERE id IN ({_marks(ids)})", ids)
            cursor = db.execute_sql(
                f"DELETE FROM items WHERE id IN ({_marks(item_ids)}) AND NOT EXISTS "
                "(SELECT 1 FROM file_host_uploads u WHERE u.item_id = items.id)",
                item_ids,
            )
            uploads += len(ids)
            items += cursor.rowcount


def _marks(values: list[int]) -> str:
    return ", ".join("?" for _ in values)
