"""A home remembers its runner's name: `run --name X` there makes X the default of `add`, of a later
`run` and of the TUI, so what is added in a home is taken by the runner started in it; on a shared
queue `add` warns when the runner it queues for is not running (docs/architecture.md, 'Runners')."""

from __future__ import annotations

import json

import pytest

from filehost_tui.context import Context
from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.database import open_database
from filehost_tui.engine.models import FileHostUpload
from filehost_tui.engine.runners import home_name
from filehost_tui.tui.launch import build_session
from tests.cli_support import run_main
from tests.engine_harness import cli, make_home, wait_until
from tests.test_runners_pg import Queue, Runner, fh, make_files


def _rows(paths) -> list[tuple[str, str, str]]:
    db = open_database(paths.database)
    try:
        return [(r.status, r.runner, r.ran_by) for r in FileHostUpload.select()]
    finally:
        db.close()


def test_run_name_becomes_the_homes_default_for_add_and_run(tmp_path):
    [first, second] = make_files(tmp_path / "src", 2, 5000)
    with FakeHost("0x0") as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx})
        done = cli(paths, "run", "--until-idle", "--name", "seedbox-1")
        assert done.returncode == 0 and "runner started: seedbox-1" in done.stdout, done.stderr
        assert cli(paths, "add", str(first), "--host", "0x0").returncode == 0
        status = json.loads(cli(paths, "status", "--json").stdout)
        assert [u["for_runner"] for u in status["uploads"]] == ["seedbox-1"]
        done = cli(paths, "run", "--until-idle")  # no --name: the home's
        assert done.returncode == 0 and "runner started: seedbox-1" in done.stdout, done.stderr
        assert _rows(paths) == [("completed", "seedbox-1", "seedbox-1")]

        done = cli(paths, "run", "--until-idle", "--name", "nas")  # a new name is remembered
        assert done.returncode == 0, done.stderr
        assert cli(paths, "add", str(second), "--host", "0x0").returncode == 0
    assert _rows(paths)[1] == ("pending", "nas", "")
    assert home_name(paths) == "nas"


def test_the_tui_adds_and_uploads_under_the_homes_runner_name(tmp_path, sample_file):
    paths = make_home(tmp_path / "home", {})
    paths.runner_name.write_text("seedbox-1\n")
    ctx = Context(paths)
    try:
        session = build_session(ctx)
        [upload] = session.control.add([sample_file], ["catbox"])
        engine = session.engine_factory(sink=lambda event: None, spawn=None)  # `u`: upload here
        assert engine.name == "seedbox-1"
        assert FileHostUpload.get_by_id(upload).runner == "seedbox-1"
    finally:
        ctx.close()


@pytest.mark.parametrize("content", [b"bad name\n", b"\xff\xfe\n"])
def test_a_spoilt_runner_name_file_is_one_line_and_exit_2(tmp_path, sample_file, capsys, content):
    home = tmp_path / "home"
    assert run_main(capsys, home, "add", str(sample_file), "--anywhere", "--host", "catbox")[0] == 0
    (home / "runner-name").write_bytes(content)
    code, out, err = run_main(capsys, home, "add", str(sample_file), "--host", "catbox")
    assert code == 2 and out == ""
    assert "runner-name" in err and "delete it" in err and err.count("\n") == 1
    assert [(r.status, r.runner) for r in FileHostUpload.select()] == [("pending", "")]


def test_the_readme_flow_on_a_shared_queue_uploads_what_add_queued(tmp_path, pg_url):
    [file] = make_files(tmp_path / "src", 1, 20_000)
    queue = Queue(pg_url)
    with FakeHost("gofile") as gofile:
        m1 = make_home(tmp_path / "m1", {"gofile": gofile})
        runner = Runner(m1, pg_url, "seedbox-1")
        try:
            added = fh(m1, pg_url, "add", str(file), "--host", "gofile")
            assert (added.returncode, added.stderr) == (0, "")  # its runner runs: no warning
            wait_until(lambda: queue.all_completed(1), 60, "the upload completed")
        finally:
            assert runner.stop() == 143
    try:
        [row] = queue.rows()
        assert (row.runner, row.ran_by) == ("seedbox-1", "seedbox-1")
    finally:
        queue.close()


@pytest.mark.parametrize("whose", [[], ["--runner", "nas"]])
def test_add_on_a_shared_queue_warns_when_its_runner_is_not_running(tmp_path, pg_url, whose):
    [file, other] = make_files(tmp_path / "src", 2, 1000)
    paths = make_home(tmp_path / "m2", {})
    paths.runner_name.write_text("box2\n")
    added = fh(paths, pg_url, "add", str(file), "--host", "catbox", *whose)
    name = whose[-1] if whose else "box2"
    assert added.returncode == 0 and added.stdout.startswith("queued upload 1:")
    assert added.stderr == (
        f"filehost-tui: warning: no runner named {name} is running, so these uploads wait until "
        f"`filehost-tui run --name {name}` runs; use --anywhere to let any runner take them\n"
    )
    anywhere = fh(paths, pg_url, "add", str(other), "--host", "catbox", "--anywhere")
    assert (anywhere.returncode, anywhere.stderr) == (0, "")
