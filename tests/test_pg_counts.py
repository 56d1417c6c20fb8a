"""PostgreSQL's per-(host, status) counts and change numbers under bulk writes: summed per
statement, applied once at commit (docs/architecture.md, 'Two databases').

Each test checks what the design promises: counts equal to the rows, every committed row numbered,
numbers in commit order; and a schema 5 database (per-row commit trigger) is moved to schema 6.
"""

from __future__ import annotations

import psycopg

from filehost_tui.engine.database import SCHEMA_VERSION
from filehost_tui.engine.history_prune import prune_history
from filehost_tui.engine.models import SchemaVersion
from filehost_tui.engine.pg_database import open_pg_database
from filehost_tui.engine.pg_schema import LOCK_CLASS, TRIGGERS
from filehost_tui.engine.queue_reads import QueueReads
from tests.test_queue_reads import fill

_EXACT = """
SELECT host_name, status, count(*) FROM file_host_uploads GROUP BY 1, 2
"""


def assert_exact(db) -> None:
    """upload_counts equals a count of the rows, and every row has its change number."""
    counted = {(h, s): n for h, s, n in db.execute_sql(_EXACT).fetchall()}
    kept = db.execute_sql("SELECT host_name, status, n FROM upload_counts").fetchall()
    assert all(n >= 0 for *_, n in kept)
    assert {(h, s): n for h, s, n in kept if n} == counted
    (unnumbered,) = db.execute_sql(
        "SELECT count(*) FROM file_host_uploads WHERE change_seq <= 0"
    ).fetchone()
    assert unnumbered == 0


def test_counts_stay_exact_after_a_bulk_add_state_changes_and_a_prune(pg_url):
    db = open_pg_database(pg_url)
    try:
        fill(db, 3000)  # 9,000 rows in 300-row statements, one transaction
        assert_exact(db)
        with db.atomic():  # one statement moving thousands of rows, then some back
            db.execute_sql(
                "UPDATE file_host_uploads SET status = 'completed', finished_ts = 5 "
                "WHERE status IN ('pending', 'failed')"
            )
            db.execute_sql(
                "UPDATE file_host_uploads SET status = 'pending', finished_ts = NULL "
                "WHERE host_name = 'beta' AND mod(id, 3) = 0"
            )
            db.execute_sql("UPDATE file_host_uploads SET retry_count = 1 WHERE mod(id, 2) = 0")
        assert_exact(db)
        pruned = prune_history(db, before_ts=10_000.0)
        assert pruned.uploads > 5000  # more than one page, each its own transaction
        assert_exact(db)
        with db.atomic():
            db.execute_sql("DELETE FROM file_host_uploads")
        assert db.execute_sql("SELECT sum(n) FROM upload_counts").fetchone() == (0,)
        assert db.execute_sql("SELECT count(*) FROM upload_count_deltas").fetchone() == (0,)
        assert db.execute_sql("SELECT count(*) FROM upload_commit_marks").fetchone() == (0,)
    finally:
        db.close()


def _insert_uploads(conn: psycopg.Connection, host: str) -> list[int]:
    """One multi-row INSERT: an upload to `host` of every item."""
    rows = conn.execute(
        "INSERT INTO file_host_uploads (item_id, host_name, status, total_bytes, uploaded_bytes, "
        "retry_count, next_attempt_ts, created_ts) "
        "SELECT id, %s, 'pending', 10, 0, 0, 0, 0 FROM items RETURNING id",
        (host,),
    ).fetchall()
    return [i for (i,) in rows]


def _numbers(db, ids: list[int]) -> list[int]:
    return [
        n
        for (n,) in db.execute_sql(
            "SELECT change_seq FROM file_host_uploads WHERE id = ANY(?)", (ids,)
        ).fetchall()
    ]


def test_change_numbers_follow_commit_order_for_multi_row_statements(pg_url):
    db = open_pg_database(pg_url)
    try:
        fill(db, 300)
        reads = QueueReads(db, chunk=50)
        _, seen = reads.changed_since(0)
        with psycopg.connect(pg_url) as first, psycopg.connect(pg_url) as second:
            early = _insert_uploads(first, "delta")  # written first, committed last
            late = _insert_uploads(second, "epsilon")
            second.commit()
            rows, seen = reads.changed_since(seen)
            assert sorted(r.id for r in rows) == sorted(late)
            first.commit()
            rows, _ = reads.changed_since(seen)
            assert sorted(r.id for r in rows) == sorted(early)  # a reader misses none of them
        early_numbers, late_numbers = _numbers(db, early), _numbers(db, late)
        assert max(late_numbers) < min(early_numbers)
        assert len(set(early_numbers + late_numbers)) == len(early) + len(late)
        assert_exact(db)
    finally:
        db.close()


# Schema 5's counting, frozen: one deferred trigger a row (what version 6 replaces).
_VERSION_5 = (
    f"""CREATE OR REPLACE FUNCTION file_host_uploads_committed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_advisory_xact_lock({LOCK_CLASS}, TG_RELID::int);
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE upload_counts SET n = n - 1
          WHERE host_name = OLD.host_name AND status = OLD.status;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO upload_counts AS c VALUES (NEW.host_name, NEW.status, 1)
          ON CONFLICT (host_name, status) DO UPDATE SET n = c.n + 1;
        UPDATE file_host_uploads SET change_seq = nextval('file_host_uploads_change_seq_seq')
          WHERE id = NEW.id;
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE CONSTRAINT TRIGGER file_host_uploads_insert AFTER INSERT ON file_host_uploads
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION file_host_uploads_committed()""",
    """CREATE CONSTRAINT TRIGGER file_host_uploads_update AFTER UPDATE ON file_host_uploads
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.change_seq IS NOT DISTINCT FROM OLD.change_seq)
    EXECUTE FUNCTION file_host_uploads_committed()""",
    """CREATE CONSTRAINT TRIGGER file_host_uploads_delete AFTER DELETE ON file_host_uploads
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION file_host_uploads_committed()""",
    "UPDATE schema_version SET version = 5",
)

_TRIGGER_NAMES = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"


def test_a_schema_5_database_gets_the_statement_triggers_and_keeps_its_counts(pg_url):
    db = open_pg_database(pg_url)
    try:
        fresh = db.execute_sql(_TRIGGER_NAMES).fetchall()
        with db.atomic():
            for table, name, _ in TRIGGERS:
                db.execute_sql(f"DROP TRIGGER {name} ON {table}")
            for sql in _VERSION_5:
                db.execute_sql(sql)
        fill(db, 100)  # counted by schema 5's per-row trigger
        assert_exact(db)
    finally:
        db.close()

    db = open_pg_database(pg_url)
    try:
        assert [r.version for r in SchemaVersion.select()] == [SCHEMA_VERSION] == [6]
        assert db.execute_sql(_TRIGGER_NAMES).fetchall() == fresh
        fill(db, 100)
        db.execute_sql("UPDATE file_host_uploads SET status = 'cancelled' WHERE mod(id, 2) = 0")
        assert_exact(db)
    finally:
        db.close()
