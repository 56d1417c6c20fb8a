"""Forward migrations of the SQLite schema, one per version, as frozen SQL.

Each step is written against the layout of the version before it, never through today's models,
so a database many versions old still walks every step. open_database runs the missing steps, each
in its own transaction together with the new version number.
"""

from __future__ import annotations

from collections.abc import Callable

import peewee

from filehost_tui.engine import pg_schema, scale_schema

_METRICS_V2 = (
    'CREATE TABLE "upload_metrics_v2" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"upload_id" INTEGER NOT NULL, "host_name" VARCHAR(255) NOT NULL, "item_id" INTEGER NOT NULL, '
    '"status" VARCHAR(255) NOT NULL, "start_ts" REAL NOT NULL, "end_ts" REAL NOT NULL, '
    '"duration_seconds" REAL NOT NULL, "bytes_uploaded" INTEGER NOT NULL, '
    '"total_bytes" INTEGER NOT NULL, "speed_kbps" REAL NOT NULL, "error_message" TEXT, '
    '"retry_count" INTEGER NOT NULL, "is_retryable" INTEGER NOT NULL, "recorded_ts" REAL NOT NULL)',
    # version 1 kept bytes sent, duration, speed in bytes/s and one finish time: the start is the
    # finish less the duration, and the size of a finished upload is what was sent
    'INSERT INTO "upload_metrics_v2" ("id", "upload_id", "host_name", "item_id", "status", '
    '"start_ts", "end_ts", "duration_seconds", "bytes_uploaded", "total_bytes", "speed_kbps", '
    '"error_message", "retry_count", "is_retryable", "recorded_ts") '
    'SELECT "id", "upload_id", "host_name", "item_id", "status", "finished_ts" - "duration_s", '
    '"finished_ts", "duration_s", "bytes", "bytes", "bytes_per_s" / 1024.0, "error_message", '
    '"retry_count", "retryable", "finished_ts" FROM "upload_metrics"',
    'DROP TABLE "upload_metrics"',
    'ALTER TABLE "upload_metrics_v2" RENAME TO "upload_metrics"',
    'CREATE UNIQUE INDEX "upload_metrics_upload_id" ON "upload_metrics" ("upload_id")',
    'CREATE INDEX "upload_metrics_host_name" ON "upload_metrics" ("host_name")',
    'CREATE INDEX "upload_metrics_item_id" ON "upload_metrics" ("item_id")',
    'CREATE INDEX "upload_metrics_status" ON "upload_metrics" ("status")',
    'CREATE INDEX "upload_metrics_start_ts" ON "upload_metrics" ("start_ts")',
    'CREATE INDEX "upload_metrics_end_ts" ON "upload_metrics" ("end_ts")',
)


_VOLUMES = (
    'ALTER TABLE "file_host_uploads" ADD COLUMN "volume" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "file_host_uploads" ADD COLUMN "volumes" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "file_host_uploads" ADD COLUMN "volume_offset" INTEGER NOT NULL DEFAULT 0',
    'DROP INDEX IF EXISTS "file_host_uploads_item_id_host_name"',
    'CREATE UNIQUE INDEX "file_host_uploads_item_id_host_name_volume" '
    'ON "file_host_uploads" ("item_id", "host_name", "volume")',
)


_RUNNER_COLUMNS = {
    "runner": 'ALTER TABLE "file_host_uploads" ADD COLUMN "runner" VARCHAR(255) NOT NULL '
    "DEFAULT ''",
    "ran_by": 'ALTER TABLE "file_host_uploads" ADD COLUMN "ran_by" VARCHAR(255) NOT NULL '
    "DEFAULT ''",
}
_RUNNERS = (
    'CREATE INDEX IF NOT EXISTS "file_host_uploads_host_name_status_runner_next_attempt_ts" '
    'ON "file_host_uploads" ("host_name", "status", "runner", "next_attempt_ts")',
    'CREATE TABLE IF NOT EXISTS "runners" ("name" VARCHAR(255) NOT NULL PRIMARY KEY, '
    '"machine" VARCHAR(255) NOT NULL, "pid" INTEGER NOT NULL, "started_ts" REAL NOT NULL, '
    '"heartbeat_ts" REAL NOT NULL, "state" VARCHAR(255) NOT NULL, "active" INTEGER NOT NULL, '
    '"bytes_per_s" REAL NOT NULL)',
)


def _run(statements: tuple[str, ...]) -> Callable[[peewee.SqliteDatabase], None]:
    def migrate(db: peewee.SqliteDatabase) -> None:
        for sql in statements:
            db.execute_sql(sql)

    return migrate


def _runners(db: peewee.Database) -> None:
    """Columns only where missing, like scale_schema.migrate (a database some step of which was
    undone by hand still walks it). Timestamps are DOUBLE PRECISION on PostgreSQL, whose REAL
    keeps 7 digits (as its models)."""
    have = {c.name for c in db.get_columns("file_host_uploads")}
    for column, sql in _RUNNER_COLUMNS.items():
        if column not in have:
            db.execute_sql(sql)
    real = "DOUBLE PRECISION" if isinstance(db, peewee.PostgresqlDatabase) else "REAL"
    for sql in _RUNNERS:
        db.execute_sql(sql.replace(" REAL ", f" {real} "))


def _pg_triggers(db: peewee.Database) -> None:
    """PostgreSQL's counting and numbering triggers by statement (pg_schema.reinstall_triggers);
    SQLite's are unchanged."""
    if isinstance(db, peewee.PostgresqlDatabase):
        pg_schema.reinstall_triggers(db)


# version N -> the step that upgrades a database at version N-1 to N
MIGRATIONS: dict[int, Callable[[peewee.SqliteDatabase], None]] = {
    2: _run(_METRICS_V2),  # upload_metrics by the original metrics table's column names
    3: scale_schema.migrate,  # change counter, per-host counts, name search, read indexes
    4: _run(_VOLUMES),  # uploads may be numbered volumes of their item
    # runners by name; rows written before are anyone's (runner ''), see docs/architecture.md,
    # 'Runners'
    5: _runners,
    6: _pg_triggers,  # PostgreSQL counts once per statement (docs/architecture.md, 'Two databases')
}
