"""Text a host or a file name supplied never reaches the terminal raw: every output path escapes
control characters, even for a link stored before links were checked (older databases).

Real SQLite under tmp_path; `links` and `status` run in-process; the TUI runs through Pilot.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from filehost_tui.cli.main import main
from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.screens.details import DetailsScreen
from tests.cli_support import base_url_env, cli, write_config
from tests.tui_support import make_file, make_session, settle

RAW_LINK = "http://h/x\x1b]0;PWNED\x07.bin\x9b31m"
RAW_ID = "id\x1b[2J"
RAW_ERROR = "HTTP 500: \x1b]8;;http://evil/\x07click\x1b]8;;\x07 [/b] [red]x[/red]"
# C0 and C1 controls and DEL, except the newline that separates lines of output.
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A queue with one completed upload whose link and id hold escape sequences, and one failed
    upload whose message does, written as a version that did not check links would have."""
    home = tmp_path / "home"
    files = [tmp_path / "a.bin", tmp_path / "b.bin"]
    for path in files:
        path.write_bytes(b"x" * 10)
    assert main(["--home", str(home), "add", *map(str, files), "--host", "catbox"]) == 0
    with sqlite3.connect(home / "filehost-tui.db") as db:
        db.execute(
            "UPDATE file_host_uploads SET status = 'completed', download_url = ?, file_id = ?"
            " WHERE id = 1",
            (RAW_LINK, RAW_ID),
        )
        db.execute(
            "UPDATE file_host_uploads SET status = 'failed', error_kind = 'server',"
            " error_message = ? WHERE id = 2",
            (RAW_ERROR,),
        )
    db.close()
    return home


@pytest.mark.parametrize("fmt", ["plain", "bbcode", "markdown", "json"])
def test_links_escape_control_characters_in_every_format(home, capsys, fmt: str) -> None:
    capsys.readouterr()
    assert main(["--home", str(home), "links", "--format", fmt]) == 0
    out = capsys.readouterr().out

    assert CONTROL.search(out) is None, repr(out)
    assert "http://h/x\\x1b]0;PWNED\\x07.bin\\x9b31m" in (
        json.loads(out)[0]["url"] if fmt == "json" else out
    )


def test_status_escapes_control_characters_in_links_and_errors(home, capsys) -> None:
    capsys.readouterr()
    assert main(["--home", str(home), "status"]) == 0
    out = capsys.readouterr().out

    assert CONTROL.search(out) is None, repr(out)
    assert "\\x1b]8;;http://evil/\\x07click" in out


def test_a_host_that_answers_an_escape_sequence_as_its_link_gets_no_link_stored(tmp_path):
    home = tmp_path / "home"
    write_config(home, "[hosts.catbox]\nmax_retries = 0\n")
    sample = tmp_path / "a.bin"
    sample.write_bytes(b"x" * 1000)
    with FakeHost("catbox") as catbox:
        catbox.inject("reply", body="http://h/x\x1b]0;PWNED\x07.bin")
        env = base_url_env("catbox", catbox)
        assert cli(home, "add", str(sample), "--host", "catbox", env=env).returncode == 0
        run = cli(home, "run", "--until-idle", env=env)
    links = [cli(home, "links", "--format", f) for f in ("plain", "bbcode", "markdown", "json")]
    status = cli(home, "status", "--json")

    assert run.returncode == 1
    (upload,) = json.loads(status.stdout)["uploads"]
    assert (upload["status"], upload["error_kind"], upload["download_url"]) == (
        "failed",
        "bad_response",
        None,
    )
    assert [r.stdout for r in links] == ["", "", "", "[]\n"]
    for text in (run.stdout, run.stderr, upload["error_message"]):
        assert CONTROL.search(text) is None, repr(text)
    assert "http://h/x\\x1b]0;PWNED\\x07.bin" in upload["error_message"]


async def test_tui_table_and_details_escape_control_characters(tmp_path) -> None:
    session = make_session(tmp_path)
    q = session.queue
    done, failed = q.add([make_file(tmp_path / "f", "clip\x1b[31m.bin", 10)], ["catbox", "gofile"])
    q.claim("catbox", "test")
    q.complete(done, RAW_LINK, RAW_ID)
    q.claim("gofile", "test")
    q.fail(failed, "server", RAW_ERROR, retryable=False, max_retries=0, base_delay=1.0)
    app = FilehostApp(session)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            cells = [
                str(app.main.table.get_cell(str(i), c))
                for i in (done, failed)
                for c in ("item", "tail")
            ]
            assert all(CONTROL.search(text) is None for text in cells), cells
            assert "clip\\x1b[31m.bin" in cells[0]
            assert cells[3].endswith("[/b] [red]x[/red]")  # text, never markup

            for upload_id in (done, failed):
                app.main.table.move_to(upload_id)
                await pilot.press("enter")
                assert isinstance(app.screen, DetailsScreen)
                shown = [str(s.render()) for s in app.screen.query(".detail")]
                assert all(CONTROL.search(text) is None for text in shown), shown
                await pilot.press("escape")
            assert not isinstance(app.screen, DetailsScreen)
    finally:
        session.db.close()
