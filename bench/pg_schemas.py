"""A queue database in a schema of its own on the local PostgreSQL, dropped afterwards: what each
PostgreSQL bench round runs on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg

from filehost_tui.engine.database import migrate
from filehost_tui.engine.models import ALL_MODELS
from filehost_tui.engine.pg_database import PgQueueDatabase


@contextmanager
def throwaway_queue(
    server: str, factory: type[PgQueueDatabase] = PgQueueDatabase
) -> Iterator[PgQueueDatabase]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        db = factory(f"{server}?options={quote(f'-csearch_path={schema}')}")
        db.connect()
        db.bind(ALL_MODELS)
        migrate(db, schema, "")
        try:
            yield db
        finally:
            db.close()
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
