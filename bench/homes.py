"""Benchmark homes: a fresh filehost-tui home whose hosts point at loopback sinks, the CLI run in a
fresh interpreter (as a user runs it), and what the project recorded about its uploads.

Extra hosts are user spec files in <home>/hosts/: copies of the built-in 0x0 spec under other ids,
so four uploads can go to four hosts at once, each to its own sink.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from filehost_tui.hosts.spec_loader import builtin_spec_files

REPO = Path(__file__).resolve().parents[1]


def zero_x0_spec(host_id: str) -> str:
    """The built-in 0x0 spec text under another id (a user spec for an extra 0x0-like host)."""
    source = next(p for p in builtin_spec_files() if p.name == "0x0.toml")
    lines = source.read_text().splitlines()
    out = []
    for line in lines:
        if line.startswith("id = "):
            line = f'id = "{host_id}"'
        elif line.startswith("name = "):
            line = f'name = "bench sink {host_id}"'
        out.append(line)
    return "\n".join(out) + "\n"


def make_home(
    root: Path,
    hosts: Mapping[str, str],
    settings: Mapping[str, str] | None = None,
    extra: str = "",
) -> Path:
    """A home where each host id in `hosts` sends to the given base URL. Ids other than the
    built-in 0x0 get a user spec. `settings` adds TOML lines to a host's section."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "hosts").mkdir(exist_ok=True)
    lines = [extra] if extra else []
    for host_id, base_url in hosts.items():
        if host_id != "0x0":
            (root / "hosts" / f"{host_id}.toml").write_text(zero_x0_spec(host_id))
        lines.append(f'[hosts."{host_id}"]\nbase_url = "{base_url}"')
        if settings and host_id in settings:
            lines.append(settings[host_id])
    (root / "config.toml").write_text("\n".join(lines) + "\n")
    return root


def cli_env() -> dict[str, str]:
    """The environment for CLI subprocesses: this checkout first on the path."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def cli_args(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "filehost_tui", "--home", str(home), *args]


def cli(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`filehost-tui --home HOME args...` in a fresh interpreter; raises on a non-zero exit."""
    done = subprocess.run(
        cli_args(home, *args), capture_output=True, text=True, env=cli_env(), timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"filehost-tui {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return done


@dataclass(frozen=True)
class Measured:
    """A finished child process: exit code, output, wall seconds, CPU seconds, peak RSS bytes."""

    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    cpu_s: float
    max_rss: int


def start_measured(args: Sequence[str], env: Mapping[str, str] | None = None) -> _Child:
    return _Child(args, env)


class _Child:
    """A child whose resource usage is read with wait4 (subprocess.wait would discard it)."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str] | None) -> None:
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 - closed in wait()
        self._err = tempfile.TemporaryFile()  # noqa: SIM115
        self.started = time.monotonic()
        self.proc = subprocess.Popen(list(args), stdout=self._out, stderr=self._err, env=env)

    def wait(self) -> Measured:
        _, status, usage = os.wait4(self.proc.pid, 0)
        wall = time.monotonic() - self.started
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        outputs = []
        for fh in (self._out, self._err):
            fh.seek(0)
            outputs.append(fh.read().decode("utf-8", "replace"))
            fh.close()
        return Measured(
            self.proc.returncode,
            outputs[0],
            outputs[1],
            wall,
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss * 1024,
        )


def run_measured(args: Sequence[str], env: Mapping[str, str] | None = None) -> Measured:
    return start_measured(args, env).wait()


def cli_measured(home: Path, *args: str) -> Measured:
    """`filehost-tui --home HOME args...` timed from the outside; raises on a non-zero exit."""
    done = run_measured(cli_args(home, *args), cli_env())
    if done.returncode != 0:
        raise RuntimeError(
            f"filehost-tui {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return done


@dataclass(frozen=True)
class Metric:
    """One upload_metrics row: the project's own account of a finished upload."""

    upload_id: int
    host: str
    status: str
    bytes: int
    duration_s: float
    bytes_per_s: float
    finished_ts: float


def database(home: Path) -> Path:
    return home / "filehost-tui.db"


def read_metrics(home: Path) -> list[Metric]:
    with sqlite3.connect(database(home)) as conn:
        rows = conn.execute(
            "SELECT upload_id, host_name, status, bytes, duration_s, bytes_per_s, finished_ts"
            " FROM upload_metrics ORDER BY upload_id"
        ).fetchall()
    return [Metric(*row) for row in rows]


def upload_statuses(home: Path) -> dict[int, str]:
    with sqlite3.connect(database(home)) as conn:
        return dict(conn.execute("SELECT id, status FROM file_host_uploads").fetchall())


def queued_ids(output: str) -> list[int]:
    """Upload ids from `add` output lines like "queued upload 3: name -> host"."""
    return [int(line.split()[2].rstrip(":")) for line in output.splitlines() if line.strip()]


def add_and_run(
    home: Path, paths: Sequence[Path], hosts: Sequence[str]
) -> tuple[Measured, Measured]:
    """`add` then `run --until-idle`, each measured from the outside."""
    host_args = [a for h in hosts for a in ("--host", h)]
    added = cli_measured(home, "add", *map(str, paths), *host_args)
    ran = cli_measured(home, "run", "--until-idle")
    return added, ran
