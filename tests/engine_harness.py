"""Helpers for engine tests: a home whose hosts point at loopback fake hosts, and a running engine."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from filehost_tui.config import load_config
from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.database import open_database
from filehost_tui.engine.engine import Engine
from filehost_tui.engine.events import Event, UploadCompleted, UploadFailed, UploadStarted
from filehost_tui.engine.models import FileHostUpload
from filehost_tui.engine.states import Status
from filehost_tui.hosts.spec_loader import load_specs
from filehost_tui.paths import AppPaths

REPO = Path(__file__).resolve().parents[1]


def make_home(
    root: Path,
    hosts: Mapping[str, FakeHost],
    settings: Mapping[str, str] | None = None,
    extra: str = "",
) -> AppPaths:
    """A home dir whose config sends each named host to its fake; `settings` adds TOML lines."""
    paths = AppPaths.resolve(root)
    paths.ensure()
    lines = [extra]
    for host_id, fake in hosts.items():
        lines.append(f'[hosts."{host_id}"]\nbase_url = "{fake.base_url}"\nretry_delay = 0.05')
        if settings and host_id in settings:
            lines.append(settings[host_id])
    paths.config_file.write_text("\n".join(lines) + "\n")
    return paths


class Recorder:
    """Collects events and checks that no upload is ever started twice at once."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.running: set[int] = set()
        self.overlaps: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self.lock:
            self.events.append(event)
            if isinstance(event, UploadStarted):
                if event.upload_id in self.running:
                    self.overlaps.append(event.upload_id)
                self.running.add(event.upload_id)
            elif isinstance(event, UploadCompleted | UploadFailed):
                self.running.discard(event.upload_id)

    def of(self, kind: type) -> list[Event]:
        with self.lock:
            return [e for e in self.events if isinstance(e, kind)]


def start_engine(
    paths: AppPaths, trace: Callable[[str], None] | None = None
) -> tuple[Engine, Recorder]:
    db = open_database(paths.database, trace=trace)
    recorder = Recorder()
    engine = Engine(
        paths, load_config(paths.config_file), load_specs(paths.user_hosts_dir), db, sink=recorder
    )
    engine.start()
    return engine, recorder


def wait_until(
    predicate: Callable[[], object], timeout: float = 30.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def cli(paths: AppPaths, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120):
    """Run `filehost-tui --home HOME args...` in a fresh interpreter."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "filehost_tui", "--home", str(paths.data_dir), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


def spawn_runner(paths: AppPaths, *args: str) -> subprocess.Popen:
    """`filehost-tui run ARGS...` as a separate process, for tests that stop or watch it."""
    return subprocess.Popen(
        [sys.executable, "-m", "filehost_tui", "--home", str(paths.data_dir), "run", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def all_finished() -> bool:
    return (
        not FileHostUpload.select()
        .where(FileHostUpload.status.in_([Status.PENDING, Status.UPLOADING]))
        .exists()
    )


def upload_all(paths, items: list[Path], hosts: list[str], timeout: float = 30) -> list[int]:
    """Queue `items` for `hosts` and run an engine until every upload has ended."""
    engine, _ = start_engine(paths)
    try:
        ids = engine.queue.add(items, hosts)
        engine.wake()
        wait_until(all_finished, timeout, "all uploads")
    finally:
        engine.stop()
    return ids
