"""The TUI under measurement: the real app (built as `filehost-tui` builds it) in a child process on
a pseudo-terminal, plus an event-loop probe inside it.

Parent side (imported by tui.py and memory.py): `fill_queue` writes N finished uploads into a home's
database; `TuiProcess` starts the child on a pty, reads everything it paints (with arrival times),
types keys, switches measurement phases and collects the child's report.

Child side (`python tui_driver.py HOME CONTROL_DIR ROWS`): runs FilehostApp with the real terminal
driver and a probe coroutine on the same asyncio loop that sleeps 10 ms at a time and records how
late it wakes (event-loop lag), the process and loop-thread CPU per phase, and when the table holds
ROWS rows. The parent starts a phase by creating CONTROL_DIR/phase-NAME and ends the run with
CONTROL_DIR/stop; the child then writes CONTROL_DIR/report.json and exits.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import resource
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import checkout  # noqa: F401  (this checkout first on sys.path)
from homes import cli_env

HERE = Path(__file__).resolve()
TICK = 0.01
COLS, LINES = 160, 48


# ---- parent side ------------------------------------------------------------------------------


def fill_queue(home: Path, rows: int, fake_dir: Path, seed_ts: float | None = None) -> None:
    """`rows` finished uploads (85% completed with links, 10% failed, 5% cancelled), 4 hosts."""
    from filehost_tui.engine.database import open_database
    from filehost_tui.engine.models import FileHostUpload, Item

    db = open_database(home / "filehost-tui.db")
    now = seed_ts or time.time() - 3600
    hosts = ("0x0", "catbox", "gofile", "pixeldrain")
    try:
        with db.atomic():
            for start in range(0, rows, 500):
                batch = range(start, min(rows, start + 500))
                Item.insert_many(
                    [
                        dict(
                            id=n + 1,
                            path=str(fake_dir / f"photo-{n:05d}.jpg"),
                            name=f"photo-{n:05d}.jpg",
                            kind="file",
                            total_size=3_000_000 + n,
                            file_count=1,
                            fingerprint=f"{n:064x}",
                            created_ts=now + n,
                        )
                        for n in batch
                    ]  # fmt: skip
                ).execute()
                FileHostUpload.insert_many([_upload(n, hosts[n % 4], now) for n in batch]).execute()
    finally:
        db.close()


def _upload(n: int, host: str, now: float) -> dict[str, object]:
    status = "completed" if n % 20 < 17 else ("failed" if n % 20 < 19 else "cancelled")
    row: dict[str, object] = dict(
        item=n + 1, host_name=host, status=status, total_bytes=3_000_000 + n,
        uploaded_bytes=3_000_000 + n if status == "completed" else 0, created_ts=now + n,
        started_ts=now + n, finished_ts=now + n + 1,
    )  # fmt: skip
    if status == "completed":
        row.update(
            download_url=f"https://files.example/{n:06x}/photo-{n:05d}.jpg", file_id=f"{n:06x}"
        )
    elif status == "failed":
        row.update(error_kind="server", error_message="HTTP 502 from upload server", retry_count=5)
    return row


class TuiProcess:
    """The child on a pty (stdin, stdout and stderr: Textual paints on stderr)."""

    def __init__(self, home: Path, control: Path, rows: int) -> None:
        control.mkdir(parents=True, exist_ok=True)
        self.control = control
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLS, 0, 0))
        env = {**cli_env(), "TERM": "xterm-256color", "COLUMNS": str(COLS), "LINES": str(LINES)}
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE), str(home), str(control), str(rows)],
            stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self._master = master
        self._buf = bytearray()
        self._times: list[tuple[int, float]] = []  # (buffer length, arrival time)
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._master, 1 << 16)
            except OSError:
                data = b""
            now = time.monotonic()
            with self._cond:
                if not data:
                    self._times.append((-1, now))
                    self._cond.notify_all()
                    return
                self._buf += data
                self._times.append((len(self._buf), now))
                self._cond.notify_all()

    @property
    def offset(self) -> int:
        with self._cond:
            return len(self._buf)

    def wait_for(self, marker: bytes, start: int, timeout: float = 60.0) -> tuple[float, int]:
        """When `marker` first arrived after byte `start` (monotonic time), and the offset after it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self._buf.find(marker, start)
                if found >= 0:
                    end = found + len(marker)
                    at = next(t for n, t in self._times if n >= end or n < 0)
                    return at, end
                if self._times and self._times[-1][0] < 0:
                    raise RuntimeError(f"the TUI exited before showing {marker!r}: {self.stderr()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"the TUI did not show {marker!r} in {timeout} s")
                self._cond.wait(left)

    def press(self, data: bytes) -> tuple[float, int]:
        """Type `data`; returns when it was written and the screen offset just before."""
        offset = self.offset
        sent = time.monotonic()
        os.write(self._master, data)
        return sent, offset

    def phase(self, name: str) -> None:
        (self.control / f"phase-{name}").touch()

    def stop(self, timeout: float = 60.0) -> dict:
        (self.control / "stop").touch()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"the TUI did not exit: {self.stderr()}") from None
        finally:
            os.close(self._master)
        report = self.control / "report.json"
        if not report.exists():
            raise RuntimeError(f"the TUI wrote no report: {self.stderr()}")
        return json.loads(report.read_text())

    def kill(self) -> None:
        """End the child if it still runs (a measurement failed before stop()). Left alone, it
        outlives this process on a hung-up pty and spins, skewing every later measurement."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stderr(self) -> str:
        """The end of what the child wrote (Textual paints on stderr; tracebacks land there too)."""
        with self._cond:
            return bytes(self._buf[-3000:]).decode("utf-8", "replace")


def run_driver(home: Path, tag: str, rows: int) -> dict:
    """Start the TUI over `home`, wait until the whole table is loaded, stop; the child's report."""
    tui = TuiProcess(home, home / f"control-{tag}", rows)
    tui.wait_for(b"link / error", 0)
    deadline = time.monotonic() + 120
    while not (tui.control / "loaded").exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the table never held every row")
        time.sleep(0.05)
    return tui.stop()


# ---- child side -------------------------------------------------------------------------------


class Probe:
    def __init__(self, app, control: Path, rows: int) -> None:
        self.app = app
        self.control = control
        self.rows = rows
        self.loaded_at: float | None = None
        self.phase = "start"
        self.phases: dict[str, dict] = {}

    def _enter(self, name: str) -> None:
        self.phase = name
        self.phases[name] = {
            "lags": [], "wall0": time.monotonic(), "cpu0": time.process_time(),
            "loop0": time.thread_time(),
        }  # fmt: skip

    def _close(self) -> None:
        p = self.phases.get(self.phase)
        if p is not None and "wall_s" not in p:
            p["wall_s"] = time.monotonic() - p.pop("wall0")
            p["cpu_s"] = time.process_time() - p.pop("cpu0")
            p["loop_cpu_s"] = time.thread_time() - p.pop("loop0")

    async def run(self) -> None:
        self._enter("start")
        seen: set[str] = set()
        while True:
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            self.phases[self.phase]["lags"].append(time.perf_counter() - before - TICK)
            self._check_loaded()
            names = set(os.listdir(self.control))
            for name in sorted(n for n in names - seen if n.startswith("phase-")):
                self._close()
                self._enter(name[len("phase-") :])
            seen = names
            if "stop" in names:
                self._close()
                self._write()
                self.app.exit(0)
                return

    def _check_loaded(self) -> None:
        if self.loaded_at is not None:
            return
        try:
            count = self.app.main.table.row_count
        except Exception:
            return
        if count >= self.rows:
            self.loaded_at = time.monotonic()
            (self.control / "loaded").touch()

    def _write(self) -> None:
        phases = {}
        for name, p in self.phases.items():
            lags = sorted(p["lags"])
            phases[name] = {
                "samples": len(lags),
                "lag_max_ms": 1000 * lags[-1] if lags else 0.0,
                "lag_p95_ms": 1000 * lags[int(0.95 * (len(lags) - 1))] if lags else 0.0,
                **{k: p[k] for k in ("wall_s", "cpu_s", "loop_cpu_s") if k in p},
            }
        report = {
            "loaded_at": self.loaded_at,
            "max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "cpu_s": time.process_time(),
            "mode": self.app.session.mode,
            "phases": phases,
        }
        (self.control / "report.json").write_text(json.dumps(report))


async def child_main(home: Path, control: Path, rows: int) -> None:
    from filehost_tui.context import Context
    from filehost_tui.paths import AppPaths
    from filehost_tui.tui.app import FilehostApp
    from filehost_tui.tui.launch import build_session

    ctx = Context(AppPaths.resolve(home))
    app = FilehostApp(build_session(ctx))
    probe = asyncio.create_task(Probe(app, control, rows).run())
    try:
        await app.run_async()
    finally:
        probe.cancel()
        ctx.close()


if __name__ == "__main__":
    asyncio.run(child_main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])))
