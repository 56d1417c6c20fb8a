"""What keeps reads cheap with a million uploads of history: a change counter per upload row,
per-(host, status) counts, an item-name search index, and the indexes the read side needs.

Counters and the search index are kept by triggers, so every writer (QueueStore, a migration, a
script writing SQL) keeps them true without remembering to: a read never counts or searches rows.
"""

from __future__ import annotations

import peewee

# The indexes the read side needs; the same SQL on PostgreSQL (pg_schema.py).
INDEXES = (
    # The TUI's once-a-second read asks only for rows above the last change number it saw.
    "CREATE INDEX IF NOT EXISTS file_host_uploads_change_seq ON file_host_uploads (change_seq)",
    # Keyset pages of one host and status in queue order, and "queued since" as an id bound.
    """CREATE INDEX IF NOT EXISTS file_host_uploads_host_status_id
    ON file_host_uploads (host_name, status, id)""",
    # `add` asks whether a path is already queued: one probe, not a walk of every item.
    "CREATE INDEX IF NOT EXISTS items_path ON items (path)",
    "CREATE INDEX IF NOT EXISTS file_host_uploads_created_ts ON file_host_uploads (created_ts)",
    # `prune`: old history of one status as a range, not a walk of every row of that status.
    """CREATE INDEX IF NOT EXISTS file_host_uploads_status_finished
    ON file_host_uploads (status, finished_ts)""",
    # `stats` sums every metric of a period per host: a covering index in host order answers it
    # without reading the table (a million metrics in well under a second).
    """CREATE INDEX IF NOT EXISTS upload_metrics_stats ON upload_metrics
    (host_name, end_ts, status, bytes_uploaded, duration_seconds, speed_kbps)""",
)

_STATEMENTS = (
    *INDEXES,
    # Every insert or update of an upload row takes the next change number.
    """CREATE TRIGGER IF NOT EXISTS file_host_uploads_seq_insert AFTER INSERT ON file_host_uploads
    BEGIN
      UPDATE file_host_uploads SET change_seq =
        (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM file_host_uploads) WHERE id = NEW.id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS file_host_uploads_seq_update AFTER UPDATE ON file_host_uploads
    WHEN NEW.change_seq IS OLD.change_seq
    BEGIN
      UPDATE file_host_uploads SET change_seq =
        (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM file_host_uploads) WHERE id = NEW.id;
    END""",
    """CREATE TABLE IF NOT EXISTS upload_counts (
      host_name TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL,
      PRIMARY KEY (host_name, status)) WITHOUT ROWID""",
    """CREATE TRIGGER IF NOT EXISTS upload_counts_insert AFTER INSERT ON file_host_uploads
    BEGIN
      INSERT INTO upload_counts VALUES (NEW.host_name, NEW.status, 1)
        ON CONFLICT (host_name, status) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER IF NOT EXISTS upload_counts_update
    AFTER UPDATE OF host_name, status ON file_host_uploads
    WHEN NEW.status IS NOT OLD.status OR NEW.host_name IS NOT OLD.host_name
    BEGIN
      UPDATE upload_counts SET n = n - 1 WHERE host_name = OLD.host_name AND status = OLD.status;
      INSERT INTO upload_counts VALUES (NEW.host_name, NEW.status, 1)
        ON CONFLICT (host_name, status) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER IF NOT EXISTS upload_counts_delete AFTER DELETE ON file_host_uploads
    BEGIN
      UPDATE upload_counts SET n = n - 1 WHERE host_name = OLD.host_name AND status = OLD.status;
    END""",
    # Item names searched by substring (the TUI's `/`): trigrams, so "olida" finds "holiday".
    """CREATE VIRTUAL TABLE IF NOT EXISTS item_names USING fts5(
      name, content='items', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER IF NOT EXISTS item_names_insert AFTER INSERT ON items BEGIN
      INSERT INTO item_names (rowid, name) VALUES (NEW.id, NEW.name);
    END""",
    """CREATE TRIGGER IF NOT EXISTS item_names_delete AFTER DELETE ON items BEGIN
      INSERT INTO item_names (item_names, rowid, name) VALUES ('delete', OLD.id, OLD.name);
    END""",
    """CREATE TRIGGER IF NOT EXISTS item_names_update AFTER UPDATE OF name ON items BEGIN
      INSERT INTO item_names (item_names, rowid, name) VALUES ('delete', OLD.id, OLD.name);
      INSERT INTO item_names (rowid, name) VALUES (NEW.id, NEW.name);
    END""",
)


def install(db: peewee.SqliteDatabase) -> None:
    """Create what a new SQLite database needs (its tables already have change_seq); PostgreSQL's
    form is pg_schema.install."""
    for sql in _STATEMENTS:
        db.execute_sql(sql)


def migrate(db: peewee.SqliteDatabase) -> None:
    """Upgrade a database written before the change counter: add it, build the rest, and fill the
    counts and the name index once from the rows already there."""
    columns = {c.name for c in db.get_columns("file_host_uploads")}
    if "change_seq" not in columns:
        db.execute_sql(
            "ALTER TABLE file_host_uploads ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0"
        )
    install(db)
    db.execute_sql("DELETE FROM upload_counts")
    db.execute_sql(
        "INSERT INTO upload_counts SELECT host_name, status, COUNT(*) FROM file_host_uploads "
        "GROUP BY host_name, status"
    )
    db.execute_sql("INSERT INTO item_names (item_names) VALUES ('rebuild')")
