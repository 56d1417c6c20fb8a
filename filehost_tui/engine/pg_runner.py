"""What a runner holds on a shared PostgreSQL queue for its whole life, each on a connection of its
own (docs/architecture.md, 'Runners'):

- its name: a session advisory lock, so a second runner of that name is refused; the server drops
  it when the connection dies, so a runner killed by SIGKILL or cut off by the network frees its
  name without anyone cleaning up;
- its doorbell: LISTEN on one channel; `add`, `pause`, `cancel`, `retry`, `assign` on any machine
  NOTIFY it, and the runner's connection threads and ticker look at once, as the local doorbell
  makes them on SQLite.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

import peewee

from filehost_tui.engine.pg_database import RUNNER_LOCK_CLASS, is_postgres, pg_error
from filehost_tui.errors import UserError

log = logging.getLogger("filehost_tui.engine")

CHANNEL = "filehost_tui"
LISTEN_WAIT_S = 0.5  # how often the listener looks whether it should stop
RECONNECT_WAIT_S = (0.5, 1.0, 2.0, 5.0)  # after the listening connection broke


def notify(db: peewee.Database) -> None:
    """Ring every runner's doorbell on a shared database (nothing on SQLite)."""
    if is_postgres(db):
        with contextlib.suppress(peewee.DatabaseError):
            db.execute_sql("SELECT pg_notify(?, '')", (CHANNEL,))


def own_connection(db: peewee.PostgresqlDatabase):
    """A connection of its own (autocommit), outside peewee's per-thread one; a server that
    refuses it is one sentence, without the password."""
    try:
        return db._connect()
    except Exception as exc:
        raise pg_error(db.database, exc) from None


class PgNameLock:
    """The runner name's advisory lock, held on a connection kept open for the runner's life."""

    def __init__(self, db: peewee.PostgresqlDatabase, name: str) -> None:
        self._db = db
        self.name = name
        self._conn = None

    def acquire(self) -> None:
        conn = own_connection(self._db)
        # advisory locks belong to the whole database: the schema (one queue) is part of the key,
        # so a name is taken on this queue only
        row = conn.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(current_schema() || '/' || %s))",
            (RUNNER_LOCK_CLASS, self.name),
        ).fetchone()
        if not row[0]:
            conn.close()
            raise UserError(
                f"a runner named {self.name} is already running on this database; stop it, or "
                "give this one another name with --name NAME"
            )
        self._conn = conn

    @property
    def held(self) -> bool:
        return self._conn is not None

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()  # the server drops the lock with the session
            self._conn = None


class PgDoorbell:
    """LISTENs on its own connection in a daemon thread and calls `on_ring` for each wake-up;
    a broken connection is opened again with backoff, and a ring is given then, since changes
    may have been missed meanwhile."""

    def __init__(self, db: peewee.PostgresqlDatabase, on_ring: Callable[[], None]) -> None:
        self._db = db
        self._on_ring = on_ring
        self._stop = threading.Event()
        self._conn = self._listen()
        self._thread = threading.Thread(target=self._run, name="pg-doorbell", daemon=True)
        self._thread.start()

    def _listen(self):
        conn = own_connection(self._db)
        conn.execute(f"LISTEN {CHANNEL}")
        return conn

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                if self._conn is None:
                    self._conn = self._listen()
                    self._on_ring()
                rang = False
                for _ in self._conn.notifies(timeout=LISTEN_WAIT_S):
                    rang = True  # a burst of notifications is one wake-up
                    break
                if rang:
                    self._on_ring()
                failures = 0
            except Exception as exc:  # the server went away: retry, never stop listening
                if self._stop.is_set():
                    return
                log.warning("doorbell connection lost (%s); reconnecting", exc)
                with contextlib.suppress(Exception):
                    if self._conn is not None:
                        self._conn.close()
                self._conn = None
                self._stop.wait(RECONNECT_WAIT_S[min(failures, len(RECONNECT_WAIT_S) - 1)])
                failures += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=LISTEN_WAIT_S * 4)
        with contextlib.suppress(Exception):
            if self._conn is not None:
                self._conn.close()
