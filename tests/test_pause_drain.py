"""Pause and drain from the command line, against real transfers to a throttled loopback host
(docs/architecture.md, 'Pause and drain'): a paused upload says it has sent nothing (no host takes
the rest of a partial upload), and `pause --drain` lets the running upload finish and starts none of
the rest; `resume` undoes it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.events import UploadStarted
from filehost_tui.engine.models import FileHostUpload
from filehost_tui.engine.states import Status
from tests.cli_support import run_main
from tests.engine_harness import cli, make_home, start_engine, wait_until

# one connection, capped on the client's side (socket buffers cannot swallow the file): one upload
# runs for seconds while the others wait
ONE_SLOW_CONNECTION = "max_connections = 1\nmax_upload_speed = 400000"
BIG = 3_000_000  # about 7 s at the cap: time for a CLI process to start and act mid-transfer
SMALL = 100_000


def _files(root: Path, sizes: tuple[int, ...]) -> list[Path]:
    root.mkdir()
    paths = []
    for n, size in enumerate(sizes):
        path = root / f"f{n}.bin"
        path.write_bytes(os.urandom(size))
        paths.append(path)
    return paths


def _row(upload_id: int) -> FileHostUpload:
    return FileHostUpload.get_by_id(upload_id)


def _sending(upload_id: int) -> bool:
    row = _row(upload_id)
    return row.status == Status.UPLOADING and row.uploaded_bytes > 0


def test_pause_drain_lets_the_running_upload_finish_and_starts_nothing_new(tmp_path):
    with FakeHost("0x0") as fake:
        paths = make_home(tmp_path / "home", {"0x0": fake}, {"0x0": ONE_SLOW_CONNECTION})
        engine, recorder = start_engine(paths)
        try:
            running, *waiting = engine.queue.add(_files(tmp_path / "src", (BIG, SMALL, SMALL)),
                                                 ["0x0"])  # fmt: skip
            engine.wake()
            wait_until(lambda: _sending(running), 30, "the first upload to send bytes")

            drained = cli(paths, "pause", "--drain", "--all")
            assert drained.returncode == 0, drained.stderr
            assert drained.stdout.splitlines() == [
                f"upload {running}: uploading; left to finish",
                *(f"upload {w}: paused" for w in waiting),
            ]
            wait_until(lambda: _row(running).status == Status.COMPLETED, 60, "the running one")
            assert [_row(w).status for w in waiting] == [Status.PAUSED] * 2
            assert [f.size for f in fake.received] == [BIG]
            assert {e.upload_id for e in recorder.of(UploadStarted)} == {running}

            resumed = cli(paths, "resume", "--all")
            assert resumed.returncode == 0, resumed.stderr
            assert resumed.stdout.splitlines()[:2] == [f"upload {w}: pending" for w in waiting]
            wait_until(
                lambda: all(_row(w).status == Status.COMPLETED for w in waiting), 60, "the rest"
            )
        finally:
            engine.stop()
        assert sorted(f.size for f in fake.received) == [SMALL, SMALL, BIG]


def test_status_after_a_pause_mid_transfer_says_nothing_was_kept(tmp_path):
    with FakeHost("0x0") as fake:
        paths = make_home(tmp_path / "home", {"0x0": fake}, {"0x0": ONE_SLOW_CONNECTION})
        engine, _ = start_engine(paths)
        try:
            (upload_id,) = engine.queue.add(_files(tmp_path / "src", (BIG,)), ["0x0"])
            engine.wake()
            wait_until(lambda: _sending(upload_id), 30, "the upload to send bytes")

            paused = cli(paths, "pause", str(upload_id))
            assert paused.returncode == 0, paused.stderr
            line = paused.stdout.strip()
            assert line.startswith(f"upload {upload_id}: paused; the ")
            assert "sent so far is sent again on resume" in line
            wait_until(lambda: not engine.busy(), 30, "the transfer to stop")

            status = cli(paths, "status", "--json")
            assert status.returncode == 0, status.stderr
            [upload] = json.loads(status.stdout)["uploads"]
            assert (upload["status"], upload["uploaded_bytes"]) == ("paused", 0)
            text = cli(paths, "status").stdout
            assert f"{upload_id:>5}  f0.bin" in text and "paused       0.0%" in text
        finally:
            engine.stop()
        assert fake.received == []


@pytest.fixture
def queued(tmp_path):
    home = tmp_path / "home"
    source = tmp_path / "a.bin"
    source.write_bytes(b"x" * 10)
    return home, source


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("pause", "--drain"), "say which uploads: UPLOAD_ID..., --all, --failed or --host ID"),
        (("pause", "--drain", "--failed"), "--drain pauses uploads that wait"),
    ],
    ids=["nothing-selected", "failed"],
)
def test_pause_drain_with_a_selection_it_cannot_drain_is_refused(queued, capsys, args, message):
    home, source = queued
    assert run_main(capsys, home, "add", str(source), "--host", "catbox")[0] == 0
    code, out, err = run_main(capsys, home, *args)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("filehost-tui: error: ")
    assert message in err
    code, out, _ = run_main(capsys, home, "status", "--json")
    assert json.loads(out)["uploads"][0]["status"] == "pending", "the queue is left as it was"


def test_drain_is_an_option_of_pause_only(queued, capsys):
    home, _ = queued
    with pytest.raises(SystemExit) as exited:
        run_main(capsys, home, "resume", "--drain", "--all")
    assert exited.value.code == 2
    assert "unrecognized arguments: --drain" in capsys.readouterr().err
