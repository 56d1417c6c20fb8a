"""Several runners on one real PostgreSQL queue, each a real `filehost-tui run` process with a home
of its own (a "machine"), uploading to real fake hosts on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import pytest

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.models import FileHostUpload, UploadMetric
from filehost_tui.engine.pg_database import open_pg_database
from filehost_tui.engine.runners import RunnerRegistry
from tests.engine_harness import REPO, make_home, wait_until

HOSTS = ("0x0", "catbox", "gofile")
SHORT_LEASE = "[runner]\nlease_seconds = 2\n"


def machine(root: Path, fakes: dict[str, FakeHost], extra: str = "", settings=None):
    """A home of its own; only the takeover test shortens the lease (a short one, renewed about
    every second, could expire under a busy machine's stalls and hand a live upload over)."""
    return make_home(root, fakes, settings, extra=extra)


def fh(paths, url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "filehost_tui", "--home", str(paths.data_dir), "--db", url, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=timeout,
    )


class Runner:
    """`filehost-tui run --name NAME` in the background, started once it said so."""

    def __init__(self, paths, url: str, name: str, *args: str) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "filehost_tui", "--home", str(paths.data_dir), "--db", url,
             "run", "--name", name, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        line = self.proc.stdout.readline()
        assert f"runner started: {name}" in line, line + self.proc.stderr.read()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=60)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code


def make_files(root: Path, count: int, size: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    files = []
    for n in range(count):
        path = root / f"f{n:03}.bin"
        path.write_bytes(n.to_bytes(4, "big") + os.urandom(size - 4))
        files.append(path)
    return files


class Queue:
    """The shared database as a test reads it."""

    def __init__(self, url: str) -> None:
        self.db = open_pg_database(url)

    def rows(self) -> list[FileHostUpload]:
        return list(FileHostUpload.select().order_by(FileHostUpload.id))

    def all_completed(self, count: int) -> bool:
        rows = self.rows()
        return len(rows) == count and all(r.status == "completed" for r in rows)

    def close(self) -> None:
        self.db.close()


@pytest.fixture
def queue(pg_url):
    q = Queue(pg_url)
    yield q
    q.close()


def test_two_runners_share_40_uploads_on_3_hosts_each_done_once(tmp_path, pg_url, queue):
    files = make_files(tmp_path / "src", 40, 60_000)
    with ExitStack() as stack:
        fakes = {h: stack.enter_context(FakeHost(h, throttle_bps=600_000)) for h in HOSTS}
        # each runner runs at most 3 transfers while 6 could: neither can take everything
        caps = "[limits]\nmax_concurrent = 3\n"
        a, b = machine(tmp_path / "a", fakes, caps), machine(tmp_path / "b", fakes, caps)
        runners = [Runner(a, pg_url, "alpha"), Runner(b, pg_url, "beta")]
        try:
            for n, host in enumerate(HOSTS):
                mine = [str(f) for f in files[n::3]]
                added = fh(a, pg_url, "add", *mine, "--host", host, "--anywhere")
                assert added.returncode == 0, added.stderr
            wait_until(lambda: queue.all_completed(40), 120, "every upload completed")
        finally:
            codes = [r.stop() for r in runners]
    assert codes == [143, 143]
    rows = queue.rows()
    assert Counter(r.ran_by for r in rows).keys() == {"alpha", "beta"}  # both did some
    for host, fake in fakes.items():
        sent = sorted(f.name for f in fake.received)
        assert sent == sorted(p.name for p in files[HOSTS.index(host) :: 3])  # each once
    assert sorted(m.upload_id for m in UploadMetric.select()) == [r.id for r in rows]
    assert {r.name: r.state for r in RunnerRegistry(queue.db).all()} == {
        "alpha": "stopped",
        "beta": "stopped",
    }


def test_a_second_runner_of_the_same_name_is_refused_until_the_first_dies(tmp_path, pg_url):
    with FakeHost("0x0") as zx:
        a, b = machine(tmp_path / "a", {"0x0": zx}), machine(tmp_path / "b", {"0x0": zx})
        first = Runner(a, pg_url, "box")
        try:
            second = fh(b, pg_url, "run", "--name", "box", "--until-idle")
            assert second.returncode == 2 and second.stdout == ""
            assert second.stderr.count("\n") == 1
            assert "a runner named box is already running on this database" in second.stderr
            other = fh(b, pg_url, "run", "--name", "box2", "--until-idle")
            assert other.returncode == 0, other.stderr
        finally:
            first.stop(signal.SIGKILL)
        # the server dropped the name's lock with the dead runner's connection
        again = fh(b, pg_url, "run", "--name", "box", "--until-idle")
        assert again.returncode == 0, again.stderr


def test_max_connections_holds_across_two_runners(tmp_path, pg_url, queue):
    files = make_files(tmp_path / "src", 10, 200_000)
    with FakeHost("0x0", throttle_bps=2_000_000) as zx:
        one = {"0x0": "max_connections = 1"}
        a = machine(tmp_path / "a", {"0x0": zx}, settings=one)
        b = machine(tmp_path / "b", {"0x0": zx}, settings=one)
        runners = [Runner(a, pg_url, "alpha"), Runner(b, pg_url, "beta")]
        try:
            added = fh(a, pg_url, "add", *map(str, files), "--host", "0x0", "--anywhere")
            assert added.returncode == 0, added.stderr
            wait_until(lambda: queue.all_completed(10), 120, "every upload completed")
        finally:
            for r in runners:
                r.stop()
        assert zx.most_uploads_at_once == 1  # the fake host counts open upload requests
        assert len(zx.received) == 10


def test_a_killed_runners_anywhere_uploads_finish_on_the_other(tmp_path, pg_url, queue):
    files = make_files(tmp_path / "src", 3, 1_500_000)
    with FakeHost("0x0") as zx:
        # alpha sends slowly (a client-side cap: socket buffers would swallow a server throttle)
        slow = {"0x0": "max_upload_speed = 300000"}
        a = machine(tmp_path / "a", {"0x0": zx}, SHORT_LEASE, settings=slow)
        b = machine(tmp_path / "b", {"0x0": zx}, SHORT_LEASE)
        alpha = Runner(a, pg_url, "alpha")
        try:
            added = fh(a, pg_url, "add", *map(str, files[:2]), "--host", "0x0", "--anywhere")
            assert added.returncode == 0, added.stderr
            # alpha's own: only alpha may take it, so it waits for alpha
            added = fh(a, pg_url, "add", str(files[2]), "--host", "0x0", "--runner", "alpha")
            assert added.returncode == 0, added.stderr
            wait_until(
                lambda: any(r.uploaded_bytes > 0 and r.ran_by == "alpha" for r in queue.rows()),
                30,
                "bytes from alpha on the wire",
            )
        finally:
            alpha.stop(signal.SIGKILL)
        taken = {r.id for r in queue.rows() if r.status == "uploading"}
        assert taken  # alpha died holding uploads
        beta = Runner(b, pg_url, "beta")
        try:
            wait_until(
                lambda: all(r.status == "completed" for r in queue.rows()[:2]),
                90,
                "alpha's anywhere uploads finished by beta",
            )
            rows = queue.rows()
        finally:
            beta.stop()
    assert [(r.status, r.ran_by) for r in rows[:2]] == [("completed", "beta")] * 2
    assert (rows[2].status, rows[2].runner) in {("pending", "alpha"), ("uploading", "alpha")}
    assert sorted(f.name for f in zx.received) == sorted(p.name for p in files[:2])


def test_add_on_one_machine_reaches_an_idle_runner_on_another_within_a_second(tmp_path, pg_url):
    [file] = make_files(tmp_path / "src", 1, 10_000)
    with FakeHost("0x0") as zx:
        a, b = machine(tmp_path / "a", {"0x0": zx}), machine(tmp_path / "b", {"0x0": zx})
        beta = Runner(b, pg_url, "beta")  # idle: its connection threads sleep up to 30 s
        try:
            added = fh(a, pg_url, "add", str(file), "--host", "0x0", "--anywhere")
            assert added.returncode == 0, added.stderr
            queued = time.monotonic()
            assert zx.wait_for_attempts(1, timeout=10)
            latency = time.monotonic() - queued
        finally:
            beta.stop()
    assert latency < 1.0, f"first byte {latency:.2f}s after add"
