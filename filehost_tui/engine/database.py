"""Opening the SQLite database: pragmas, schema version, forward migrations, and clear errors.

A process works on one database at a time: open_database binds every model to it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import peewee

from filehost_tui.engine import pg_schema, scale_schema
from filehost_tui.engine.migrations import MIGRATIONS
from filehost_tui.engine.models import ALL_MODELS, SchemaVersion
from filehost_tui.errors import UserError

SCHEMA_VERSION = 6

PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 15000,
    "foreign_keys": 1,
    "synchronous": "normal",
}


def database_error(path: Path, exc: BaseException) -> UserError:
    """Turn an sqlite failure into the one sentence a user can act on."""
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return UserError(
            f"database {path} is corrupt or not a SQLite file; move it aside (the queue in it is lost) "
            "or restore a backup, then run again"
        )
    if "readonly" in text or "read-only" in text:
        return UserError(f"database {path} is read-only; fix its permissions or use --home DIR")
    if "locked" in text or "busy" in text:
        return UserError(f"database {path} stayed locked by another process; try again in a moment")
    if is_disk_full(exc):
        return UserError(
            f"cannot write database {path}: the disk is full; free some space and retry"
        )
    if "unable to open" in text:
        return UserError(
            f"cannot open database {path}; check that its folder exists and is writable"
        )
    return UserError(f"database {path}: {exc}; check the file or use --home DIR")


def is_disk_full(exc: BaseException) -> bool:
    """SQLite says SQLITE_FULL as "database or disk is full"; an I/O error on write is most often
    the same cause on a filesystem that reports it late."""
    text = str(exc).lower()
    return "disk" in text and ("full" in text or "i/o" in text)


class _ReadRows:
    """A SELECT's rows, read to the end at once. An unfinished statement keeps its read
    transaction open, which pins that thread's connection to an old snapshot: a long-lived worker
    would then miss rows that other connections have committed (peewee's first()/scalar()/exists()
    stop after one row)."""

    rowcount = -1
    lastrowid = None

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.description = cursor.description
        self._rows = iter(cursor.fetchall())
        cursor.close()

    def fetchone(self) -> tuple | None:
        return next(self._rows, None)

    def fetchall(self) -> list[tuple]:
        return list(self._rows)

    def __iter__(self):
        return self._rows

    def close(self) -> None:
        pass


class QueueDatabase(peewee.SqliteDatabase):
    """SQLite with in-process turn-taking for write transactions.

    Threads of one process queue on a Python lock before BEGIN IMMEDIATE, and before a write
    outside a transaction, so they wait in line instead of in SQLite's busy handler, whose
    sleep-and-retry can starve one thread past the busy timeout when many write at once. Other
    processes still meet the busy timeout. `trace(sql)`, if given, sees every statement on every
    thread's connection (tests and bench/ count writes).
    """

    def __init__(
        self, *args: object, trace: Callable[[str], None] | None = None, **kwargs: object
    ) -> None:
        self._trace = trace
        self._writer = threading.RLock()
        self._holding = threading.local()
        super().__init__(*args, **kwargs)

    def execute_sql(self, sql: str, params: object = None):
        if self.transaction_depth() == 0:
            if sql.lstrip()[:6].upper() == "SELECT":
                return _ReadRows(super().execute_sql(sql, params))
            with self._writer:  # anything else may write: it waits in line like a transaction
                return super().execute_sql(sql, params)
        return super().execute_sql(sql, params)

    def _add_conn_hooks(self, conn: sqlite3.Connection) -> None:
        super()._add_conn_hooks(conn)
        if self._trace is not None:
            conn.set_trace_callback(_once_per_statement(self._trace))

    def begin(self, *args: object, **kwargs: object) -> None:
        self._writer.acquire()
        try:
            super().begin(*args, **kwargs)
        except BaseException:
            self._writer.release()
            raise
        self._holding.value = True

    def commit(self) -> None:
        super().commit()  # on failure peewee rolls back, and rollback() releases
        self._release()

    def rollback(self) -> None:
        """SQLite itself rolls back a transaction whose COMMIT met a full disk; asking again would
        raise "cannot rollback - no transaction is active" and hide the real error."""
        try:
            if self.connection().in_transaction:
                super().rollback()
        finally:
            self._release()

    def _release(self) -> None:
        if getattr(self._holding, "value", False):
            self._holding.value = False
            self._writer.release()


def _once_per_statement(trace: Callable[[str], None]) -> Callable[[str], None]:
    """sqlite3 reports each statement a trigger runs as the outer statement's text again, and the
    full-text index's own statements as `-- ` comments in between; a tracer counting writes wants
    the statement the code sent, once (see scale_schema's triggers)."""
    last: list[str | None] = [None]

    def seen(sql: str) -> None:
        if sql.startswith("--"):
            return
        if sql != last[0]:
            trace(sql)
        last[0] = sql

    return seen


def open_database(
    path: Path, *, trace: Callable[[str], None] | None = None
) -> peewee.SqliteDatabase:
    """Open (creating if needed) and migrate; a newer or broken database raises UserError."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    created = not path.exists()
    if created:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    db = QueueDatabase(str(path), pragmas=PRAGMAS, lock_type="IMMEDIATE", timeout=15, trace=trace)
    try:
        db.connect()
        db.bind(ALL_MODELS)
        migrate(db, f"database {path}", "use --home DIR")
    except (peewee.DatabaseError, sqlite3.DatabaseError, peewee.OperationalError) as exc:
        db.close()
        raise database_error(path, exc) from None
    except UserError:
        db.close()
        raise
    return db


def migrate(db: peewee.Database, where: str, elsewhere: str, *, oldest: int = 1) -> None:
    """Create the schema in an empty database, or walk the forward migrations from its version;
    `where` names the database and `elsewhere` says how to use another one, in messages.
    `oldest` is the first version this kind of database was ever written with."""
    tables = set(db.get_tables())
    if "schema_version" not in tables:
        if tables - {"sqlite_sequence"}:
            raise UserError(f"{where} holds tables that are not filehost-tui's; {elsewhere}")
        with db.atomic():
            db.create_tables(ALL_MODELS)
            postgres = isinstance(db, peewee.PostgresqlDatabase)
            (pg_schema if postgres else scale_schema).install(db)
            SchemaVersion.create(version=SCHEMA_VERSION)
        return
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    if row is None or row.version < oldest:
        raise UserError(
            f"{where} has lost its schema version (the schema_version table is empty "
            "or damaged); restore a backup or move it aside (the queue in it is lost)"
        )
    version = row.version
    if version > SCHEMA_VERSION:
        raise UserError(
            f"{where} was written by a newer filehost-tui (schema {version}, this one knows "
            f"{SCHEMA_VERSION}); upgrade filehost-tui or {elsewhere}"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        with db.atomic():
            MIGRATIONS[target](db)
            SchemaVersion.update(version=target).execute()
