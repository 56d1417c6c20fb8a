"""Opening a shared PostgreSQL queue (docs/architecture.md, 'Two databases').

The same models and stores as on SQLite; what differs is kept here and in pg_schema.py: the
driver, the connection's errors as one sentence without the password, and the SQL the stores write
by hand with SQLite's `?` marks.
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import unquote, urlsplit

import peewee

from filehost_tui.engine.database import migrate
from filehost_tui.engine.models import ALL_MODELS
from filehost_tui.errors import UserError
from filehost_tui.redact import redact_url, register_secret

EXTRA_HINT = "pip install 'filehost-tui[postgres]'"
log = logging.getLogger("filehost_tui.engine")

# between failed attempts to connect, for the whole process: the last one is repeated
RECONNECT_WAITS_S = (0.5, 1.0, 2.0, 5.0, 10.0)


class _PassedOn(Exception):
    """A first base that peewee's exception wrapper does not know: it maps an error by the name of
    its class or first base, and would turn its subclass into a plain OperationalError."""


class DatabaseUnreachable(_PassedOn, peewee.OperationalError):
    """The last attempt to connect failed a moment ago; raised without trying again."""


class PgQueueDatabase(peewee.PostgresqlDatabase):
    """PostgreSQL through psycopg 3, every statement outside a transaction in autocommit (peewee's
    default): a read sees what other runners committed up to that moment and holds no snapshot.

    FloatField is DOUBLE PRECISION here: peewee's REAL keeps 7 digits, a timestamp needs 16.
    """

    def __init__(self, url: str, **kwargs: object) -> None:
        kwargs.setdefault("prefer_psycopg3", True)  # bench/pg_driver.py compares psycopg2
        super().__init__(_libpq_url(url), field_types={"FLOAT": "DOUBLE PRECISION"}, **kwargs)
        self._reach_lock = threading.Lock()
        self._failed_connects = 0
        self._next_connect = 0.0
        self._unreachable = ""
        self._reached = False  # a first connection that fails is the caller's one-line error

    def _connect(self):
        """A server that refused or did not answer is tried again after a wait that grows
        (RECONNECT_WAITS_S), shared by every thread of the process: meanwhile a statement that
        needs a new connection raises DatabaseUnreachable at once.
        See docs/architecture.md, 'When a runner loses the database'."""
        with self._reach_lock:
            if self._failed_connects:
                now = time.monotonic()
                if now < self._next_connect:
                    raise DatabaseUnreachable(self._unreachable)  # the same words: one trouble
                self._next_connect = now + self._wait()  # one thread tries; the rest wait for it
        try:
            conn = super()._connect()
        except Exception as exc:
            if not self._reached:
                raise
            reason = _scrub(" ".join(str(exc).split()), self.database)
            with self._reach_lock:
                wait = self._wait()
                self._failed_connects += 1
                self._next_connect = time.monotonic() + wait
                self._unreachable = reason
            log.warning("cannot reach the database (%s); next try in %ss", reason, wait)
            raise
        with self._reach_lock:
            failed, self._failed_connects = self._failed_connects, 0
            self._reached = True
        if failed:
            log.info("reached the database again after %d failed attempt(s)", failed)
        return conn

    def _wait(self) -> float:
        return RECONNECT_WAITS_S[min(self._failed_connects, len(RECONNECT_WAITS_S) - 1)]

    def cursor(self, named_cursor: object = None):
        """A connection the server dropped (restart, network loss, idle timeout) stays closed for
        good in psycopg; outside a transaction the next statement opens a new one instead. The
        statement that met the loss has raised already and is not sent again: it may have been
        applied, and only its caller can tell whether to repeat it."""
        conn = self._state.conn
        if conn is not None and conn.closed and self.transaction_depth() == 0:
            self.close()
        return super().cursor(named_cursor)

    def execute_sql(self, sql: str, params: object = None):
        """The stores' hand-written SQL uses SQLite's `?` marks; psycopg's is `%s`. Every `?` in
        it is a mark: that SQL has none in literals or names (docs/architecture.md, 'Two
        databases')."""
        if params and "?" in sql:
            sql = sql.replace("?", "%s")
        return super().execute_sql(sql, params)


def _libpq_url(url: str) -> str:
    """`postgres://` (as many tools write it) in the `postgresql://` form: peewee hands only that
    scheme to the driver as a URL, and any other string as a database name."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql://{rest}" if sep and scheme.lower() in ("postgresql", "postgres") else url


def is_postgres(db: peewee.Database) -> bool:
    return isinstance(db, peewee.PostgresqlDatabase)


def check_url(url: str) -> None:
    """A URL a user gave: its scheme, port and database name are checked before anything
    connects; its password, if any, is masked from then on in every log line and message."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise UserError(
            f"database URL {redact_url(url)} is malformed ({exc}); {_URL_FORM}"
        ) from None
    if parts.password:
        register_secret(unquote(parts.password))
    if parts.scheme not in ("postgresql", "postgres"):  # urlsplit lower-cases it
        raise UserError(f"database URL {redact_url(url)} is not a PostgreSQL URL; {_URL_FORM}")
    if not parts.path.strip("/"):
        raise UserError(f"database URL {redact_url(url)} names no database; {_URL_FORM}")


_URL_FORM = "write it as postgresql://USER@HOST:5432/DATABASE"


# The first key of the advisory locks this program takes (the second is a hashed name), one per
# kind, so that a host's and a runner's lock never meet.
HOST_LOCK_CLASS = 7301  # claims of one host, across runners: held to the end of the claim
RUNNER_LOCK_CLASS = 7302  # a runner's name: held on its own connection for the runner's life

# The first schema version written to PostgreSQL: older layouts only ever existed on SQLite.
OLDEST_VERSION = 4


def open_pg_database(url: str) -> PgQueueDatabase:
    """Connect, create or migrate the schema; a newer, foreign or unreachable database raises
    UserError without the password."""
    db = connect(url)
    try:
        db.bind(ALL_MODELS)
        migrate(db, f"database {redact_url(url)}", _ELSEWHERE, oldest=OLDEST_VERSION)
    except peewee.DatabaseError as exc:
        db.close()
        raise pg_error(url, exc) from None
    except UserError:
        db.close()
        raise
    return db


_ELSEWHERE = "use an empty database (or unset database_url to use SQLite)"


def connect(url: str) -> PgQueueDatabase:
    """Connect (no schema work yet); every failure is a UserError that names the URL masked."""
    check_url(url)
    try:
        import psycopg  # noqa: F401 - peewee picks the driver it finds; say which one is missing
    except ImportError:
        raise UserError(
            f"the PostgreSQL driver (psycopg) is not installed; {EXTRA_HINT}, "
            "or unset database_url to use SQLite"
        ) from None
    db = PgQueueDatabase(url)
    try:
        db.connect()
    except peewee.DatabaseError as exc:
        raise pg_error(url, exc) from None
    return db


def pg_error(url: str, exc: BaseException) -> UserError:
    """The one sentence a user can act on, never the password (libpq does not quote it, but a
    server's message might quote the URL)."""
    where = redact_url(url)
    text = " ".join(str(exc).split())
    lowered = text.lower()
    if "password" in lowered or "authentication" in lowered or "role" in lowered:
        hint = "check the user, and PGPASSWORD or ~/.pgpass"
    elif "does not exist" in lowered:
        hint = "create it first (see README, 'Several machines')"
    elif "refused" in lowered or "timeout" in lowered or "could not" in lowered:
        hint = "check that the server runs and accepts connections from this machine"
    else:
        hint = "check the server and the URL"
    return UserError(f"database {where}: {_scrub(text, url)}; {hint}")


def _scrub(text: str, url: str) -> str:
    password = urlsplit(url).password
    if password:
        text = text.replace(password, "***").replace(unquote(password), "***")
    return text.replace(url, redact_url(url))
