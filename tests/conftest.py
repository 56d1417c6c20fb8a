"""Shared fixtures: real SQLite files in tmp dirs and a real PostgreSQL schema per test, never
mocks."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import quote

import keyring
import pytest
from keyring.backends import null

from filehost_tui.engine.database import open_database
from filehost_tui.engine.metrics_store import MetricsStore
from filehost_tui.engine.pg_database import open_pg_database
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.redact import SECRETS

HOSTS = {"alpha": None, "beta": None, "tiny": 10}
# The test server: trust auth on loopback (.ci/run starts it). Each test gets its own schema.
PG_SERVER = os.environ.get("PG_TEST_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATABASES = ("sqlite", "postgresql")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "both_databases: run the module's `db` tests on SQLite and on PostgreSQL"
    )


def pytest_generate_tests(metafunc):
    """A module marked both_databases runs each test that uses `db` (or a store on it) twice."""
    if metafunc.definition.get_closest_marker("both_databases") and "db" in metafunc.fixturenames:
        metafunc.parametrize("db", DATABASES, indirect=True)


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch, tmp_path_factory):
    """No test may read the developer's keyring, config, data dirs or FILEHOST_TUI_* variables,
    and no secret registered by one test masks text in the next."""
    for name in list(os.environ):
        if name.startswith("FILEHOST_TUI_"):
            monkeypatch.delenv(name)
    previous = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    yield
    keyring.set_keyring(previous)
    SECRETS.clear()


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The server's URL once it answered; without one a laptop skips, CI (env CI set) fails."""
    import psycopg

    try:
        with psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=5) as conn:
            # name search needs pg_trgm; made once, in public, so no test's schema owns it
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL at {PG_SERVER} is unreachable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return PG_SERVER


@pytest.fixture
def pg_url(pg_server: str):
    """A database URL whose search_path is a schema of this test's own, dropped after it."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{pg_server}?options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def db(request, tmp_path: Path):
    """A fresh queue database: SQLite unless the test is parametrised with "postgresql"."""
    if getattr(request, "param", "sqlite") == "postgresql":
        database = open_pg_database(request.getfixturevalue("pg_url"))
    else:
        database = open_database(tmp_path / "data" / "filehost-tui.db")
    yield database
    database.close()


@pytest.fixture
def clock():
    class Clock:
        now = 1_700_000_000.0

        def __call__(self) -> float:
            return self.now

    return Clock()


@pytest.fixture
def store(db, clock) -> QueueStore:
    return QueueStore(db, host_limits=HOSTS, clock=clock, jitter=lambda: 1.0)


@pytest.fixture
def metrics(db, clock) -> MetricsStore:
    return MetricsStore(db, clock=clock)


@pytest.fixture
def sample_file(tmp_path: Path) -> Path:
    path = tmp_path / "files" / "movie.bin"
    path.parent.mkdir()
    path.write_bytes(b"x" * 1000)
    return path
