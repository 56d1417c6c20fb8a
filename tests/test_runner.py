"""`filehost-tui run` in real subprocesses: crash recovery, cross-process control, bounded writes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from filehost_tui.config import load_config
from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.database import open_database
from filehost_tui.engine.engine import Engine
from filehost_tui.engine.models import FileHostUpload, UploadMetric
from filehost_tui.hosts.spec_loader import load_specs
from tests.engine_harness import REPO, cli, make_home, spawn_runner, start_engine, wait_until


def rows(paths) -> dict[int, FileHostUpload]:
    db = open_database(paths.database)
    try:
        return {r.id: r for r in FileHostUpload.select()}
    finally:
        db.close()


def status_of(paths, upload_id: int) -> str:
    return rows(paths)[upload_id].status


def make_files(root: Path, count: int, size: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for n in range(count):
        p = root / f"f{n}.bin"
        p.write_bytes(os.urandom(size))
        out.append(p)
    return out


def test_runner_killed_mid_upload_then_restarted_finishes_everything_once(tmp_path):
    files = make_files(tmp_path / "src", 3, 1_500_000)
    with FakeHost("0x0", throttle_bps=1_000_000) as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx})
        assert cli(paths, "add", *map(str, files), "--host", "0x0").returncode == 0
        runner = spawn_runner(paths)
        try:
            wait_until(
                lambda: any(r.uploaded_bytes > 0 for r in rows(paths).values()),
                30,
                "bytes on the wire",
            )
        finally:
            runner.send_signal(signal.SIGKILL)
            runner.wait()
        assert any(r.status == "uploading" for r in rows(paths).values())

        done = cli(paths, "run", "--until-idle", timeout=180)
        assert done.returncode == 0, done.stderr
        final = rows(paths)
        assert {r.status for r in final.values()} == {"completed"}
        db = open_database(paths.database)
        metrics = list(UploadMetric.select())
        db.close()
        assert sorted(m.upload_id for m in metrics) == sorted(final)
        assert all(m.status == "success" for m in metrics)
        names = [f.name for f in zx.received]
        assert sorted(set(names)) == sorted(p.name for p in files)
        assert zx.upload_attempts <= 2 * len(files)
        log_text = (paths.log_dir / "filehost-tui.log").read_text()
        assert re.search(r"recovered [12] interrupted upload", log_text)
        assert log_text.count(" completed: ") == len(files)


def queued_ids(result: subprocess.CompletedProcess) -> list[int]:
    """Upload ids from `add` output lines like "queued upload 3: name -> host"."""
    return [int(line.split()[2].rstrip(":")) for line in result.stdout.splitlines()]


def test_pause_resume_and_cancel_from_another_process(tmp_path):
    files = make_files(tmp_path / "src", 2, 4_000_000)
    with FakeHost("0x0") as zx:
        # a client-side cap: a server-side throttle would let socket buffers swallow the file
        cap = "max_connections = 2\nmax_upload_speed = 400000"
        paths = make_home(tmp_path / "home", {"0x0": zx}, {"0x0": cap})
        first, second = queued_ids(cli(paths, "add", *map(str, files), "--host", "0x0"))
        runner = spawn_runner(paths)
        try:
            wait_until(
                lambda: all(r.uploaded_bytes > 0 for r in rows(paths).values()),
                30,
                "both transfers",
            )
            attempts = zx.upload_attempts
            assert cli(paths, "pause", str(first)).returncode == 0
            assert cli(paths, "cancel", str(second)).returncode == 0
            state = rows(paths)
            assert (state[first].status, state[second].status) == ("paused", "cancelled")
            # both transfers stop: the fake sees its two upload requests end, unanswered
            wait_until(lambda: zx.uploads_in_flight == 0, 5, "both transfers to stop")
            assert zx.received == []
            assert cli(paths, "resume", str(first)).returncode == 0
            wait_until(lambda: status_of(paths, first) == "completed", 60, "the resumed upload")
        finally:
            runner.send_signal(signal.SIGTERM)
            _, err = runner.communicate(timeout=30)
        assert runner.returncode == 128 + signal.SIGTERM, err
        assert status_of(paths, second) == "cancelled"
        assert zx.upload_attempts == attempts + 1
        assert [f.name for f in zx.received] == [files[0].name]


def test_run_until_idle_waits_for_a_paused_upload_that_is_collecting_its_link(tmp_path):
    """Paused after every byte reached the host: the attempt still fetches the link, and
    `--until-idle` must not stop it (that would lose the link and send the file again)."""
    (data,) = make_files(tmp_path / "src", 1, 500_000)
    creds = {"username": "user@example.invalid", "password": "pw-12345678"}
    with FakeHost("rapidgator", credentials=creds) as rg:
        rg.inject("processing", times=3)  # three polls, a second apart, after the upload
        paths = make_home(tmp_path / "home", {"rapidgator": rg})
        env = {
            "FILEHOST_TUI_RAPIDGATOR_USERNAME": creds["username"],
            "FILEHOST_TUI_RAPIDGATOR_PASSWORD": creds["password"],
        }
        (upload_id,) = queued_ids(cli(paths, "add", str(data), "--host", "rapidgator"))
        runner = subprocess.Popen(
            [sys.executable, "-m", "filehost_tui", "--home", str(paths.data_dir), "run"]
            + ["--until-idle"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO), **env},
        )
        try:
            wait_until(lambda: rg.received, 30, "the host to have the file")
            wait_until(
                lambda: rows(paths)[upload_id].uploaded_bytes == data.stat().st_size,
                10,
                "the runner to record every byte sent",
            )
            assert cli(paths, "pause", str(upload_id)).returncode == 0
            out, err = runner.communicate(timeout=60)
        finally:
            if runner.poll() is None:
                runner.kill()
                runner.communicate()
        row = rows(paths)[upload_id]
        assert runner.returncode == 0, err
        assert (row.status, row.download_url is not None) == ("completed", True), out
        assert rg.upload_attempts == 1


def test_cancel_during_a_streamed_folder_upload_stops_it_and_leaves_no_archive(tmp_path):
    folder = tmp_path / "huge"
    folder.mkdir()
    with open(folder / "sparse.bin", "wb") as fh:
        fh.truncate(3 * 1024**3)
    with FakeHost("0x0") as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx})
        engine, _ = start_engine(paths)
        try:
            (upload_id,) = engine.queue.add([folder], ["0x0"])
            engine.wake()
            wait_until(
                lambda: any(a.phase == "uploading" and a.uploaded > 0 for a in engine.active()),
                30,
                "the folder on the wire",
            )
            assert cli(paths, "cancel", str(upload_id)).returncode == 0
            wait_until(lambda: not engine.active(), 10, "the transfer to stop")
        finally:
            engine.stop()
        assert FileHostUpload.get_by_id(upload_id).status == "cancelled"
        assert not paths.archives_dir.exists() or list(paths.archives_dir.iterdir()) == []
        assert zx.received == []


def test_db_writes_per_upload_are_bounded(tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        fh.truncate(200 * 1024 * 1024)
    with FakeHost("0x0") as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx})
        statements: list[str] = []
        engine, _ = start_engine(paths, trace=statements.append)
        try:
            statements.clear()
            t0 = time.monotonic()
            engine.queue.add([big], ["0x0"])
            engine.wake()
            wait_until(lambda: engine.counters["completed"] == 1, 120, "the 200 MiB upload")
            elapsed = time.monotonic() - t0
        finally:
            engine.stop()
        writes = [
            s for s in statements if s.split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}
        ]
        # add (2 rows) + claim + complete + metrics row, then about one progress write a second
        # and a bandwidth sample every 5 s: bounded by the upload's duration, never per callback
        assert len(writes) <= 8 + 1.5 * elapsed, (elapsed, writes)


def test_second_runner_refuses_to_start(tmp_path):
    with FakeHost("0x0") as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx})
        first = spawn_runner(paths)
        try:
            wait_until(
                lambda: paths.runner_lock.exists() and paths.runner_lock.read_text().strip(),
                20,
                "the lock",
            )
            for json_flag in ([], ["--json"]):
                second = cli(paths, "run", "--until-idle", *json_flag, timeout=60)
                assert second.returncode == 2
                assert f"another runner (pid {first.pid})" in second.stderr
                assert second.stderr.count("\n") == 1
                assert second.stdout == ""  # refused before announcing "runner started"
        finally:
            first.send_signal(signal.SIGTERM)
            first.communicate(timeout=30)
        assert first.returncode == 128 + signal.SIGTERM


def test_a_runner_refused_by_a_tui_says_the_tui_holds_the_queue(tmp_path):
    paths = make_home(tmp_path / "home", {})
    db = open_database(paths.database)
    tui_engine = Engine(
        paths, load_config(paths.config_file), load_specs(None), db, sink=print, holder="tui"
    )
    tui_engine.take_lock()
    try:
        refused = cli(paths, "run", "--until-idle", timeout=60)
    finally:
        tui_engine.stop()
        db.close()
    assert refused.returncode == 2 and refused.stdout == ""
    assert f"the filehost-tui TUI (pid {os.getpid()})" in refused.stderr
    assert "another runner" not in refused.stderr and refused.stderr.count("\n") == 1


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_or_sighup_returns_active_transfers_to_pending(tmp_path, stop):
    files = make_files(tmp_path / "src", 1, 3_000_000)
    with FakeHost("0x0", throttle_bps=300_000) as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx})
        cli(paths, "add", str(files[0]), "--host", "0x0")
        runner = spawn_runner(paths, "--json")
        try:
            wait_until(lambda: rows(paths)[1].uploaded_bytes > 0, 30, "the transfer")
        finally:
            runner.send_signal(stop)
            out, _ = runner.communicate(timeout=30)
        row = rows(paths)[1]
        assert runner.returncode == 128 + stop
        assert (row.status, row.retry_count) == ("pending", 0)
        events = [json.loads(line) for line in out.splitlines()]
        assert events[0]["event"] == "runner_started"
        assert {"started"} <= {e["event"] for e in events}
        assert events[-1]["event"] == "summary" and events[-1]["final"] is True


def test_importing_the_runner_does_not_import_textual():
    code = "import sys, filehost_tui.runner, filehost_tui.cli.main; print('textual' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.stdout.strip() == "False", out.stderr


def test_a_closed_output_stops_the_lines_not_the_uploads(tmp_path):
    """`run --until-idle --json | head -1`: the reader leaves after one line; every upload still
    completes, and no traceback is printed."""
    files = make_files(tmp_path / "src", 3, 200_000)
    with FakeHost("0x0", throttle_bps=400_000) as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx}, {"0x0": "max_connections = 1"})
        cli(paths, "add", *map(str, files), "--host", "0x0")
        runner = spawn_runner(paths, "--until-idle", "--json")
        assert runner.stdout is not None
        assert json.loads(runner.stdout.readline())["event"] == "runner_started"
        runner.stdout.close()  # like `head -1` exiting
        _, err = runner.communicate(timeout=120)
        assert runner.returncode == 0, err
        assert "Traceback" not in err and "BrokenPipe" not in err
        assert {r.status for r in rows(paths).values()} == {"completed"}
        assert len(zx.received) == 3
