"""Shared fixtures: real SQLite files in tmp dirs, never mocks."""

from __future__ import annotations

import os
from pathlib import Path

import keyring
import pytest
from keyring.backends import null

from filehost_tui.config import HostSettings
from filehost_tui.engine.database import open_database
from filehost_tui.engine.metrics_store import MetricsStore
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.engine.volumes import host_limit
from filehost_tui.redact import SECRETS

HOSTS = {"alpha": None, "beta": None, "tiny": host_limit(10, HostSettings())}


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


@pytest.fixture
def db(tmp_path: Path):
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
