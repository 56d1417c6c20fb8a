"""scale_schema's change counter, per-(host, status) counts and name search, in PostgreSQL's form
(docs/architecture.md, 'Two databases').

On SQLite one writer at a time makes "the next change number" the order in which changes became
visible. On PostgreSQL several runners commit at once, and a number drawn when a row is written
could become visible after a higher one that a reader has already passed. So the counter and the
counts are written at commit, by a deferred trigger under a transaction lock on the uploads table:
numbers are drawn in commit order, and the counts' rows are only ever locked under that lock (two
transactions moving rows between the same statuses in opposite directions would deadlock on them
otherwise). It runs once a transaction, on count deltas summed per statement and on rows marked as
written: work per row at commit grew worse than linearly with a transaction's rows. Name search is
pg_trgm's trigram index under ILIKE: the same "every word is a substring, any case" as the SQLite
trigram index.
"""

from __future__ import annotations

import peewee

from filehost_tui.engine.scale_schema import INDEXES
from filehost_tui.errors import UserError

# First key of pg_advisory_xact_lock(int, int): the second is the uploads table's oid, so two
# queues in different schemas of one database do not wait on each other.
LOCK_CLASS = 0x46485455  # "FHTU"

# A change not yet given its number: the value a row written in an open transaction holds until
# commit (readers see only committed rows, so never this).
UNNUMBERED = -1

# BEFORE each written row: mark it for numbering at commit. The commit's own numbering changes
# change_seq, so the trigger's WHEN leaves it alone.
_MARK = f"""
CREATE OR REPLACE FUNCTION file_host_uploads_mark() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.change_seq := {UNNUMBERED};
  RETURN NEW;
END $$"""

# jit = off on the two below: a plan cached at a bulk write (tens of thousands of rows) would
# otherwise JIT-compile at every later one-row statement of the session (7 ms each).

# AFTER each statement: its count deltas, summed per (host, status) from its transition tables,
# appended for this transaction; and the transaction's one commit mark (its deferred trigger).
_DELTAS = """
CREATE OR REPLACE FUNCTION file_host_uploads_deltas() RETURNS trigger
LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  INSERT INTO upload_commit_marks VALUES (txid_current()) ON CONFLICT DO NOTHING;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO upload_count_deltas
      SELECT txid_current(), host_name, status, count(*) FROM new_rows GROUP BY 2, 3;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO upload_count_deltas
      SELECT txid_current(), host_name, status, -count(*) FROM old_rows GROUP BY 2, 3;
  ELSE
    INSERT INTO upload_count_deltas
      SELECT txid_current(), host_name, status, sum(d) FROM (
        SELECT host_name, status, -1 AS d FROM old_rows
        UNION ALL SELECT host_name, status, 1 FROM new_rows) AS moved
      GROUP BY 2, 3 HAVING sum(d) <> 0;
  END IF;
  RETURN NULL;
END $$"""

# At commit, once per transaction: under the lock, the summed deltas into the counts and the next
# numbers to the transaction's marked rows.
_COMMITTED = f"""
CREATE OR REPLACE FUNCTION file_host_uploads_committed() RETURNS trigger
LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_CLASS}, 'file_host_uploads'::regclass::int);
  WITH mine AS (DELETE FROM upload_count_deltas WHERE txid = NEW.txid RETURNING host_name, status, n)
  INSERT INTO upload_counts AS c
    SELECT host_name, status, sum(n) FROM mine GROUP BY 1, 2 HAVING sum(n) <> 0
    ON CONFLICT (host_name, status) DO UPDATE SET n = c.n + EXCLUDED.n;
  UPDATE file_host_uploads SET change_seq = nextval('file_host_uploads_change_seq_seq')
    WHERE change_seq = {UNNUMBERED};
  DELETE FROM upload_commit_marks WHERE txid = NEW.txid;
  RETURN NULL;
END $$"""

# Bookkeeping of the triggers below, on PostgreSQL only (SQLite's triggers need none).
PG_ONLY = ("upload_count_deltas", "upload_commit_marks", "file_host_uploads_unnumbered")

# The counting and numbering (what version 6 installs, see migrations.py): tables, functions, then
# triggers.
_SUPPORT = (
    """CREATE UNLOGGED TABLE IF NOT EXISTS upload_count_deltas (
      txid BIGINT NOT NULL, host_name TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS upload_count_deltas_txid ON upload_count_deltas (txid)",
    "CREATE UNLOGGED TABLE IF NOT EXISTS upload_commit_marks (txid BIGINT PRIMARY KEY)",
    f"""CREATE INDEX IF NOT EXISTS file_host_uploads_unnumbered ON file_host_uploads (id)
    WHERE change_seq = {UNNUMBERED}""",
    _MARK,
    _DELTAS,
    _COMMITTED,
)
# (table, trigger name, definition)
TRIGGERS = (
    (
        "file_host_uploads",
        "file_host_uploads_mark_insert",
        """CREATE TRIGGER file_host_uploads_mark_insert BEFORE INSERT ON file_host_uploads
    FOR EACH ROW EXECUTE FUNCTION file_host_uploads_mark()""",
    ),
    (
        "file_host_uploads",
        "file_host_uploads_mark_update",
        """CREATE TRIGGER file_host_uploads_mark_update BEFORE UPDATE ON file_host_uploads
    FOR EACH ROW WHEN (NEW.change_seq IS NOT DISTINCT FROM OLD.change_seq)
    EXECUTE FUNCTION file_host_uploads_mark()""",
    ),
    (
        "file_host_uploads",
        "file_host_uploads_insert",
        """CREATE TRIGGER file_host_uploads_insert AFTER INSERT ON file_host_uploads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION file_host_uploads_deltas()""",
    ),
    (
        "file_host_uploads",
        "file_host_uploads_update",
        """CREATE TRIGGER file_host_uploads_update AFTER UPDATE ON file_host_uploads
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION file_host_uploads_deltas()""",
    ),
    (
        "file_host_uploads",
        "file_host_uploads_delete",
        """CREATE TRIGGER file_host_uploads_delete AFTER DELETE ON file_host_uploads
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION file_host_uploads_deltas()""",
    ),
    (
        "upload_commit_marks",
        "upload_commit_marks_committed",
        """CREATE CONSTRAINT TRIGGER upload_commit_marks_committed AFTER INSERT ON upload_commit_marks
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION file_host_uploads_committed()""",
    ),
)

# SQLite ends every index with the rowid, so the model's (host_name, status, next_attempt_ts) index
# hands a claim its host's due rows already in (next_attempt_ts, id) order. PostgreSQL needs the id
# written out, or every claim sorts the host's whole backlog (100 ms a claim at 100,000 pending).
CLAIM_INDEX = "file_host_uploads_claim"

_STATEMENTS = (
    *INDEXES,
    f"""CREATE INDEX IF NOT EXISTS {CLAIM_INDEX}
    ON file_host_uploads (host_name, status, next_attempt_ts, id)""",
    "CREATE SEQUENCE IF NOT EXISTS file_host_uploads_change_seq_seq",
    """CREATE TABLE IF NOT EXISTS upload_counts (
      host_name TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL,
      PRIMARY KEY (host_name, status))""",
    *_SUPPORT,
    *(sql for *_, sql in TRIGGERS),
)


def reinstall_triggers(db: peewee.Database) -> None:
    """Version 6: version 5's per-row commit trigger (one counts update and one change number
    update per written row, at commit: quadratic in a transaction's rows) gives way to TRIGGERS.
    Every trigger of either version is dropped first, so walking it again is harmless."""
    for sql in _SUPPORT:
        db.execute_sql(sql)
    for table, name, _ in TRIGGERS:  # version 5's three have the names of the AFTER ones
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for *_, sql in TRIGGERS:
        db.execute_sql(sql)


def install(db: peewee.Database) -> None:
    """Create what a new database needs (its tables already have change_seq)."""
    for sql in _STATEMENTS:
        db.execute_sql(sql)
    opclass = f"{_trigram_schema(db)}.gin_trgm_ops"
    db.execute_sql(f"CREATE INDEX IF NOT EXISTS item_names ON items USING gin (name {opclass})")


def _trigram_schema(db: peewee.Database) -> str:
    """Where pg_trgm lives, installing it (a trusted extension: the database's owner may) when the
    database has none yet."""
    found = "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    row = db.execute_sql(found).fetchone()
    if row is None:
        try:
            with db.atomic():
                db.execute_sql("CREATE EXTENSION pg_trgm")
        except peewee.DatabaseError:
            raise UserError(
                "the database lacks the pg_trgm extension and this user may not add it; "
                "run `CREATE EXTENSION pg_trgm;` in it as its owner or a superuser"
            ) from None
        row = db.execute_sql(found).fetchone()
    return row[0]
