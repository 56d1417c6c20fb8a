"""scale_schema's change counter, per-(host, status) counts and name search, in PostgreSQL's form
(docs/architecture.md, 'Two databases').

On SQLite one writer at a time makes "the next change number" the order in which changes became
visible. On PostgreSQL several runners commit at once, and a number drawn when a row is written
could become visible after a higher one that a reader has already passed. So the counter and the
counts are written by a deferred trigger, at commit, under a transaction lock on the uploads table:
numbers are drawn in commit order, and the counts' rows are only ever locked under that lock (two
transactions moving rows between the same statuses in opposite directions would deadlock on them
otherwise). Name search is pg_trgm's trigram index under ILIKE: the same "every word is a
substring, any case" as the SQLite trigram index.
"""

from __future__ import annotations

import peewee

from filehost_tui.engine.scale_schema import INDEXES
from filehost_tui.errors import UserError

# First key of pg_advisory_xact_lock(int, int): the second is the uploads table's oid, so two
# queues in different schemas of one database do not wait on each other.
LOCK_CLASS = 0x46485455  # "FHTU"

_FUNCTION = f"""
CREATE OR REPLACE FUNCTION file_host_uploads_committed() RETURNS trigger
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
END $$"""

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
    _FUNCTION,
    # A row's own change_seq write (the trigger's UPDATE) is not a change: the WHEN ends the loop.
    """CREATE CONSTRAINT TRIGGER file_host_uploads_insert AFTER INSERT ON file_host_uploads
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION file_host_uploads_committed()""",
    """CREATE CONSTRAINT TRIGGER file_host_uploads_update AFTER UPDATE ON file_host_uploads
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.change_seq IS NOT DISTINCT FROM OLD.change_seq)
    EXECUTE FUNCTION file_host_uploads_committed()""",
    """CREATE CONSTRAINT TRIGGER file_host_uploads_delete AFTER DELETE ON file_host_uploads
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION file_host_uploads_committed()""",
)


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
