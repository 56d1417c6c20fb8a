"""Databases written by earlier versions open forward without losing a row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from filehost_tui.engine.database import SCHEMA_VERSION, open_database
from filehost_tui.engine.metrics_store import MetricsStore
from filehost_tui.engine.models import FileHostUpload, Item, SchemaVersion, UploadMetric
from filehost_tui.engine.pg_database import open_pg_database
from filehost_tui.engine.pg_schema import CLAIM_INDEX, PG_ONLY
from tests.cli_support import cli

# The schema as version 1 created it (commit fe5d1ed), copied verbatim.
SCHEMA_V1 = """
CREATE TABLE "bandwidth_samples" ("id" INTEGER NOT NULL PRIMARY KEY, "host_name" VARCHAR(255) NOT NULL, "ts" REAL NOT NULL, "bytes_per_s" REAL NOT NULL);
CREATE INDEX "bandwidth_samples_ts_host_name" ON "bandwidth_samples" ("ts", "host_name");
CREATE TABLE "items" ("id" INTEGER NOT NULL PRIMARY KEY, "path" TEXT NOT NULL, "name" TEXT NOT NULL, "kind" VARCHAR(255) NOT NULL, "total_size" INTEGER NOT NULL, "file_count" INTEGER NOT NULL, "fingerprint" VARCHAR(255) NOT NULL, "created_ts" REAL NOT NULL);
CREATE TABLE "file_host_uploads" ("id" INTEGER NOT NULL PRIMARY KEY, "item_id" INTEGER NOT NULL, "host_name" VARCHAR(255) NOT NULL, "status" VARCHAR(255) NOT NULL, "zip_path" TEXT, "total_bytes" INTEGER NOT NULL, "uploaded_bytes" INTEGER NOT NULL, "retry_count" INTEGER NOT NULL, "next_attempt_ts" REAL NOT NULL, "error_kind" VARCHAR(255), "error_message" TEXT, "download_url" TEXT, "file_id" TEXT, "lease_owner" VARCHAR(255), "lease_expires_ts" REAL, "created_ts" REAL NOT NULL, "started_ts" REAL, "finished_ts" REAL, FOREIGN KEY ("item_id") REFERENCES "items" ("id") ON DELETE RESTRICT);
CREATE INDEX "file_host_uploads_item_id" ON "file_host_uploads" ("item_id");
CREATE INDEX "file_host_uploads_status" ON "file_host_uploads" ("status");
CREATE UNIQUE INDEX "file_host_uploads_item_id_host_name" ON "file_host_uploads" ("item_id", "host_name");
CREATE INDEX "file_host_uploads_host_name_status_next_attempt_ts" ON "file_host_uploads" ("host_name", "status", "next_attempt_ts");
CREATE TABLE "meta" ("key" VARCHAR(255) NOT NULL PRIMARY KEY, "value" TEXT NOT NULL);
CREATE TABLE "schema_version" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL);
CREATE TABLE "upload_metrics" ("id" INTEGER NOT NULL PRIMARY KEY, "upload_id" INTEGER NOT NULL, "item_id" INTEGER NOT NULL, "host_name" VARCHAR(255) NOT NULL, "status" VARCHAR(255) NOT NULL, "bytes" INTEGER NOT NULL, "duration_s" REAL NOT NULL, "bytes_per_s" REAL NOT NULL, "retry_count" INTEGER NOT NULL, "retryable" INTEGER NOT NULL, "error_message" TEXT, "finished_ts" REAL NOT NULL);
CREATE UNIQUE INDEX "upload_metrics_upload_id" ON "upload_metrics" ("upload_id");
CREATE INDEX "upload_metrics_host_name_finished_ts" ON "upload_metrics" ("host_name", "finished_ts");
CREATE INDEX "upload_metrics_finished_ts" ON "upload_metrics" ("finished_ts");
"""  # noqa: E501

SEED_COLUMNS = [
    "upload_id", "host_name", "item_id", "status", "start_ts", "end_ts", "duration_seconds",
    "bytes_uploaded", "total_bytes", "speed_kbps", "error_message", "retry_count", "is_retryable",
    "recorded_ts",
]  # fmt: skip


def make_v1_database(path: Path) -> None:
    con = sqlite3.connect(path)
    con.executescript(SCHEMA_V1)
    con.executescript(
        """
        INSERT INTO schema_version (version) VALUES (1);
        INSERT INTO meta VALUES ('session_started_ts', '1000.0');
        INSERT INTO items VALUES (1, '/data/album', 'album', 'folder', 4096, 2, 'fp1', 10.0);
        INSERT INTO items VALUES (2, '/data/b.bin', 'b.bin', 'file', 2048, 1, 'fp2', 11.0);
        INSERT INTO file_host_uploads VALUES
          (1, 1, 'catbox', 'completed', NULL, 4096, 4096, 1, 0, NULL, NULL,
           'https://files.example/a', 'a', NULL, NULL, 10.0, 1990.0, 2000.0),
          (2, 2, 'gofile', 'failed', NULL, 2048, 512, 3, 0, 'auth', 'denied', NULL, NULL, NULL,
           NULL, 11.0, 2500.0, 2600.0),
          (3, 2, 'catbox', 'pending', NULL, 2048, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL,
           12.0, NULL, NULL);
        INSERT INTO upload_metrics VALUES
          (1, 1, 1, 'catbox', 'success', 4096, 8.0, 512.0, 1, 0, NULL, 2000.0),
          (2, 2, 2, 'gofile', 'failed', 0, 0.0, 0.0, 3, 0, 'denied', 2600.0);
        INSERT INTO bandwidth_samples VALUES (1, 'catbox', 1995.0, 600.0);
        """
    )
    con.commit()
    con.close()


def schema_of(path: Path) -> dict[str, object]:
    """Every table's columns and every index's columns and uniqueness, as SQLite reports them."""
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        out: dict[str, object] = {}
        for t in sorted(tables):
            columns = [tuple(r[1:]) for r in con.execute(f'PRAGMA table_info("{t}")')]
            indexes = {
                (name, unique): [r[2] for r in con.execute(f'PRAGMA index_info("{name}")')]
                for _seq, name, unique, *_ in con.execute(f'PRAGMA index_list("{t}")')
            }
            out[t] = (columns, sorted(indexes.items()))
        return out
    finally:
        con.close()


def test_a_version_1_database_migrates_forward_keeping_every_row(tmp_path):
    old, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    make_v1_database(old)

    open_database(fresh).close()
    db = open_database(old)
    try:
        assert [r.version for r in SchemaVersion.select()] == [SCHEMA_VERSION]
        assert Item.select().count() == 2 and FileHostUpload.select().count() == 3
        assert FileHostUpload.get_by_id(1).download_url == "https://files.example/a"
        metrics = {m.upload_id: m for m in UploadMetric.select()}
        ok, failed = metrics[1], metrics[2]
        assert (ok.host_name, ok.item_id, ok.status, ok.retry_count) == ("catbox", 1, "success", 1)
        assert (ok.start_ts, ok.end_ts, ok.duration_seconds) == (1992.0, 2000.0, 8.0)
        assert (ok.bytes_uploaded, ok.total_bytes, ok.speed_kbps) == (4096, 4096, 0.5)
        assert (failed.status, failed.error_message, failed.retry_count) == ("failed", "denied", 3)
        assert failed.is_retryable is False and failed.recorded_ts == 2600.0
        stats = MetricsStore(db).stats("all")
        assert (stats["catbox"].files, stats["gofile"].failed, stats["total"].bytes) == (1, 1, 4096)
    finally:
        db.close()
    assert schema_of(old) == schema_of(fresh)


def test_upload_metrics_has_the_original_columns_unique_upload_id_and_indexes(tmp_path):
    open_database(tmp_path / "fresh.db").close()
    columns, indexes = schema_of(tmp_path / "fresh.db")["upload_metrics"]

    assert [c[0] for c in columns] == ["id", *SEED_COLUMNS]
    assert dict(indexes) == {
        ("upload_metrics_upload_id", 1): ["upload_id"],
        ("upload_metrics_host_name", 0): ["host_name"],
        ("upload_metrics_item_id", 0): ["item_id"],
        ("upload_metrics_status", 0): ["status"],
        ("upload_metrics_start_ts", 0): ["start_ts"],
        ("upload_metrics_end_ts", 0): ["end_ts"],  # ours: stats select periods by end
        # ours: stats over a million rows read this covering index, never the table
        ("upload_metrics_stats", 0): [
            "host_name", "end_ts", "status", "bytes_uploaded", "duration_seconds", "speed_kbps",
        ],
    }  # fmt: skip


@pytest.mark.parametrize(
    "damage", ["DELETE FROM schema_version", "UPDATE schema_version SET version = 0"]
)
def test_a_database_without_its_schema_version_is_a_one_line_error(tmp_path, damage):
    home = tmp_path / "home"
    assert cli(home, "status").returncode == 0
    con = sqlite3.connect(home / "filehost-tui.db")
    con.execute(damage)
    con.commit()
    con.close()

    result = cli(home, "status")

    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "has lost its schema version" in result.stderr and "restore a backup" in result.stderr


def shape(db) -> dict[str, object]:
    """Each table's column names in order and its indexes (name, unique, columns), as peewee reads
    them from either database; the name-search index is each database's own kind."""
    out: dict[str, object] = {}
    for table in db.get_tables():
        if table.startswith(("item_names", "sqlite_")) or table in PG_ONLY:
            continue
        indexes = sorted(
            (i.name, i.unique, tuple(i.columns))
            for i in db.get_indexes(table)
            # primary keys: SQLite names only a text key's index, PostgreSQL every one; the
            # claim index is SQLite's (host_name, status, next_attempt_ts) with its implicit rowid
            if i.name not in ("item_names", CLAIM_INDEX, *PG_ONLY)
            and not i.name.endswith("_pkey")
            and not i.name.startswith("sqlite_autoindex")
        )
        out[table] = ([c.name for c in db.get_columns(table)], indexes)
    return out


def test_postgresql_gets_the_same_tables_columns_and_indexes_as_sqlite(tmp_path, pg_url):
    sqlite = open_database(tmp_path / "fresh.db")
    try:
        expected = shape(sqlite)
    finally:
        sqlite.close()
    pg = open_pg_database(pg_url)
    try:
        assert shape(pg) == expected
        assert [r.version for r in SchemaVersion.select()] == [SCHEMA_VERSION]
    finally:
        pg.close()
