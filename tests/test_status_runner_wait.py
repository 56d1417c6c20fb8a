"""`status` says a pending upload waits for a runner that is not running, as the TUI does, once
the queue is shared by several runners (docs/architecture.md, 'Runners')."""

from __future__ import annotations

import json

from filehost_tui.engine.database import open_database
from filehost_tui.engine.runners import RunnerRegistry
from filehost_tui.paths import AppPaths
from tests.cli_support import run_main
from tests.test_runners_pg import fh, make_files


def test_status_says_which_runner_a_pending_upload_waits_for(tmp_path, capsys):
    home = tmp_path / "home"
    files = make_files(tmp_path / "src", 3, 1000)
    for f, whose in zip(
        files, (["--runner", "nas"], ["--runner", "box1"], ["--anywhere"]), strict=True
    ):
        assert run_main(capsys, home, "add", str(f), "--host", "catbox", *whose)[0] == 0
    _, out, _ = run_main(capsys, home, "status", "--json")
    # one runner's queue (none has run yet): nothing to say
    assert [u["waiting_reason"] for u in json.loads(out)["uploads"]] == [None] * 3

    db = open_database(home / "filehost-tui.db")
    registry = RunnerRegistry(db)
    registry.started("nas")
    registry.stopped("nas")
    registry.started("box1")
    db.close()
    _, out, _ = run_main(capsys, home, "status", "--json")
    reasons = [u["waiting_reason"] for u in json.loads(out)["uploads"]]
    assert reasons == ["runner nas not running", None, None]
    _, out, _ = run_main(capsys, home, "status", "--jsonl")
    assert [json.loads(line)["waiting_reason"] for line in out.splitlines()] == reasons
    for args in ([], ["--all"]):
        code, out, err = run_main(capsys, home, "status", *args)
        assert (code, err) == (0, "")
        lines = [line for line in out.splitlines() if line.lstrip()[:1].isdigit()]
        assert "waiting: runner nas not running" in lines[0]
        assert "pending" in lines[1] and "waiting" not in lines[1] + lines[2]


def test_status_on_a_shared_queue_says_its_runner_is_not_running(tmp_path, pg_url):
    [file] = make_files(tmp_path / "src", 1, 1000)
    home = tmp_path / "m1"
    home.mkdir()
    (home / "runner-name").write_text("seedbox-1\n")
    paths = AppPaths.resolve(home)
    assert fh(paths, pg_url, "add", str(file), "--host", "catbox").returncode == 0
    status = fh(paths, pg_url, "status", "--json")
    [upload] = json.loads(status.stdout)["uploads"]
    assert upload["waiting_reason"] == "runner seedbox-1 not running"
