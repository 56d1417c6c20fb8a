"""The main screen on a queue shared by several runners: the runners panel, the runner column,
`waiting for runner NAME`, and the `runner:NAME` filter (Pilot, and an SVG snapshot)."""

from __future__ import annotations

import time

import pytest

from filehost_tui.engine.models import FileHostUpload, Runner
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.widgets.runners_panel import RunnersPanel
from tests.test_tui_fit import screen_lines
from tests.test_tui_snapshots import mid_upload
from tests.tui_support import NOW, make_session, seed_mid_upload, settle


def seed_runners(ids: dict[str, int]) -> None:
    """alpha is running and ran most; beta stopped beating a minute ago; gamma stopped cleanly."""
    for name, machine, beat, state, active, speed in (
        ("alpha", "seedbox-1", NOW - 2, "running", 1, 2.4 * 1024 * 1024),
        ("beta", "nas", NOW - 60, "running", 0, 0.0),
        ("gamma", "laptop", NOW - 7200, "stopped", 0, 0.0),
    ):
        Runner.create(
            name=name, machine=machine, pid=100, started_ts=NOW - 9000, heartbeat_ts=beat,
            state=state, active=active, bytes_per_s=speed,
        )  # fmt: skip
    FileHostUpload.update(ran_by="alpha").where(FileHostUpload.status != "pending").execute()
    FileHostUpload.update(runner="beta").where(FileHostUpload.id == ids["pending"]).execute()
    FileHostUpload.update(runner="alpha").where(FileHostUpload.id == ids["retrying"]).execute()


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    session = make_session(tmp_path, show_runners=True)
    ids = seed_mid_upload(session, tmp_path / "files")
    seed_runners(ids)
    app = FilehostApp(session)
    app.seeded_ids = ids
    yield app
    session.db.close()
    monkeypatch.undo()
    time.tzset()


def test_main_screen_with_three_runners(app, snap_compare):
    assert snap_compare(app, terminal_size=(120, 32), run_before=mid_upload)


def cell(app, upload_id: int, column: str) -> str:
    return str(app.main.table.get_cell(str(upload_id), column))


async def test_runners_panel_runner_column_waiting_and_filter(app) -> None:
    ids = app.seeded_ids
    async with app.run_test(size=(120, 32)) as pilot:
        await settle(pilot)
        panel = app.query_one(RunnersPanel)
        assert panel.display
        lines = str(panel.render()).splitlines()
        assert [line.split()[0] for line in lines[1:]] == ["alpha", "beta", "gamma"]
        assert "running" in lines[1] and "stale" in lines[2] and "stopped" in lines[3]
        assert cell(app, ids["uploading"], "runner") == "alpha"
        assert cell(app, ids["pending"], "runner") == "beta"
        assert cell(app, ids["pending"], "tail") == "waiting for runner beta"
        assert cell(app, ids["retrying"], "tail") != "waiting for runner alpha"  # alpha runs

        await pilot.press("slash", *"runner:beta")
        await pilot.pause()
        assert app.main.table.shown_ids == [ids["pending"]]
        await pilot.press("escape")

        Runner.update(heartbeat_ts=NOW, state="running").where(Runner.name == "beta").execute()
        app.request_read()
        await settle(pilot)
        assert cell(app, ids["pending"], "tail") == ""  # beta is back: nothing to wait for


async def test_a_single_runner_on_sqlite_shows_no_panel_and_no_column(tmp_path) -> None:
    session = make_session(tmp_path)
    seed_mid_upload(session, tmp_path / "files")
    Runner.create(
        name="solo", machine="box", pid=1, started_ts=NOW, heartbeat_ts=NOW, state="running",
        active=0, bytes_per_s=0.0,
    )  # fmt: skip
    app = FilehostApp(session)
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(pilot)
        assert not app.query_one(RunnersPanel).display
        assert "runner" not in {c.value for c in app.main.table.columns}
    session.db.close()


async def test_at_80_columns_a_pending_row_still_names_the_runner_it_waits_for(app) -> None:
    async with app.run_test(size=(80, 30)) as pilot:
        await settle(pilot)
        notes = next(line for line in screen_lines(app) if "notes.txt" in line)
    assert notes.rstrip().endswith("…runner beta")  # cut from the front: the name stays
