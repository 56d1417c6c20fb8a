"""Runners by name: what a name may be, the `runners` table every face reads, and the heartbeat
that keeps a runner's row true (docs/architecture.md, 'Runners').

A runner writes its row when it starts and stops and on its heartbeat, a step of the engine's
ticker every few seconds; nothing is written per transfer or per progress callback. A row that says
`running` but whose heartbeat is older than STALE_AFTER_S belongs to a runner that died without
saying so (SIGKILL, power, network): faces show it as stale.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import time
from dataclasses import dataclass

import peewee

from filehost_tui.engine.models import Runner
from filehost_tui.errors import UserError
from filehost_tui.paths import AppPaths
from filehost_tui.safe_files import atomic_write_private

HEARTBEAT_EVERY_S = 5.0
STALE_AFTER_S = 3 * HEARTBEAT_EVERY_S
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}\Z")


def check_name(name: str, option: str = "--name") -> str:
    """A runner name is a word of letters, digits, '.', '_' and '-' (as host names are)."""
    if not _NAME.match(name):
        raise UserError(
            f"{option} {name!r} is not a runner name; use up to 63 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit"
        )
    return name


def default_name() -> str:
    """The machine's host name (its first label), the name a runner and `add` use unless told."""
    name = socket.gethostname().split(".")[0]
    if not _NAME.match(name):
        raise UserError(
            f"this machine's host name {name!r} cannot name a runner; give one with --name NAME"
        )
    return name


def home_name(paths: AppPaths) -> str:
    """This home's runner name: the one its runner last ran under (`run --name`), else the
    machine's host name. `run`, `add` and the TUI all default to it, so what `add` queues here is
    taken by the runner started here (docs/architecture.md, 'Runners')."""
    try:
        name = paths.runner_name.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return default_name()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            f"cannot read {paths.runner_name}: {exc}; delete it and start "
            "`filehost-tui run --name NAME` again"
        ) from None
    if not _NAME.match(name):
        raise UserError(
            f"{paths.runner_name} holds {name!r}, not a runner name; delete it and start "
            "`filehost-tui run --name NAME` again"
        )
    return name


def remember_name(paths: AppPaths, name: str) -> None:
    """A runner that started records its name in its home, for `add` and the TUI there."""
    text = f"{name}\n".encode()
    with contextlib.suppress(OSError):
        if paths.runner_name.read_bytes() == text:
            return  # the usual restart: nothing to write
    atomic_write_private(paths.runner_name, text)


@dataclass(frozen=True)
class RunnerInfo:
    name: str
    machine: str
    pid: int
    started_ts: float
    heartbeat_ts: float
    state: str  # "running", "stale" or "stopped"
    active: int
    bytes_per_s: float


class RunnerRegistry:
    """The `runners` table: one row per name, kept by the runner of that name."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def started(self, name: str) -> None:
        now = time.time()
        fields = dict(
            machine=socket.gethostname(),
            pid=os.getpid(),
            started_ts=now,
            heartbeat_ts=now,
            state="running",
            active=0,
            bytes_per_s=0.0,
        )
        Runner.insert(name=name, **fields).on_conflict(
            conflict_target=[Runner.name], update=fields
        ).execute()

    def heartbeat(self, name: str, active: int, bytes_per_s: float) -> None:
        Runner.update(heartbeat_ts=time.time(), active=active, bytes_per_s=bytes_per_s).where(
            Runner.name == name
        ).execute()

    def stopped(self, name: str) -> None:
        Runner.update(heartbeat_ts=time.time(), state="stopped", active=0, bytes_per_s=0.0).where(
            Runner.name == name
        ).execute()

    def all(self, now: float | None = None) -> list[RunnerInfo]:
        """Every runner ever seen on this database, by name, with a running one that stopped
        beating shown as stale."""
        now = time.time() if now is None else now
        return [
            RunnerInfo(
                r.name,
                r.machine,
                r.pid,
                r.started_ts,
                r.heartbeat_ts,
                state_of(r.state, r.heartbeat_ts, now),
                r.active,
                r.bytes_per_s,
            )
            for r in Runner.select().order_by(Runner.name)
        ]

    def known(self, name: str) -> bool:
        return Runner.select(Runner.name).where(Runner.name == name).exists()


def state_of(state: str, heartbeat_ts: float, now: float) -> str:
    if state == "running" and now - heartbeat_ts > STALE_AFTER_S:
        return "stale"
    return state
