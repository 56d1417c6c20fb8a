"""Pause in the TUI tells the truth (docs/architecture.md, 'Pause and drain'): pausing a transfer
that has sent more than a few MB asks first and names the bytes that will be sent again; `P`
offers "finish running, start nothing new" as its default; a paused row shows 0%.

Pilot tests over fixed rows (no engine), one over a real throttled transfer, and SVG snapshots of
the dialog and a paused row at 80×24 and 160×48 (update with --snapshot-update)."""

from __future__ import annotations

import os
import time

import pytest
from textual.widgets import Button

from filehost_tui.context import Context
from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.models import FileHostUpload
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.launch import build_session
from filehost_tui.tui.messages import ActionDone
from filehost_tui.tui.screens.details import DetailsScreen
from filehost_tui.tui.screens.pause_dialogs import PauseAllScreen, PauseOneScreen
from tests.engine_harness import make_home
from tests.tui_support import MiB, eventually, make_session, seed_mid_upload, settle


@pytest.fixture
def seeded(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    session = make_session(tmp_path)
    ids = seed_mid_upload(session, tmp_path / "files")  # gofile's upload has sent 301 MiB
    app = FilehostApp(session)
    app.seeded_ids = ids
    yield app, ids
    session.db.close()
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
async def keys(seeded):
    app, ids = seeded
    messages: list = []
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await settle(pilot)
        yield app, pilot, ids, messages


def status(upload_id: int) -> str:
    return FileHostUpload.get_by_id(upload_id).status


def cell(app: FilehostApp, upload_id: int, column: str) -> str:
    return str(app.main.table.get_cell(str(upload_id), column))


def question(app: FilehostApp) -> str:
    return str(app.screen.query_one("#pause-question").render())


def actions(messages) -> list[str]:
    return [m.action for m in messages if isinstance(m, ActionDone)]


async def test_shift_p_asks_naming_the_bytes_and_enter_finishes_running_starts_nothing_new(keys):
    app, pilot, ids, messages = keys
    await pilot.press("P")
    assert isinstance(app.screen, PauseAllScreen)
    assert "1 upload is sending (301MiB sent so far)" in question(app)
    assert app.screen.focused is app.screen.query_one("#drain", Button)
    await pilot.press("enter")
    await settle(pilot)
    assert actions(messages) == ["drain_all"]
    assert status(ids["uploading"]) == "uploading"
    for key in ("pending", "retrying"):
        assert status(ids[key]) == "paused", key
        assert (cell(app, ids[key], "status"), cell(app, ids[key], "pct")) == ("paused", "0%")


async def test_shift_p_then_escape_changes_nothing(keys):
    app, pilot, ids, messages = keys
    await pilot.press("P", "escape")
    await settle(pilot)
    assert actions(messages) == []
    assert (status(ids["uploading"]), status(ids["pending"])) == ("uploading", "pending")


async def test_p_on_a_busy_transfer_asks_and_enter_keeps_it_going(keys):
    app, pilot, ids, messages = keys
    app.main.table.move_to(ids["uploading"])
    await pilot.press("p")
    assert isinstance(app.screen, PauseOneScreen)
    assert "holiday-2024.zip is uploading to gofile: 301MiB of 700MiB sent" in question(app)
    await pilot.press("enter")
    await settle(pilot)
    assert actions(messages) == []
    assert status(ids["uploading"]) == "uploading"


async def test_p_then_s_stops_it_and_the_row_and_details_show_nothing_kept(keys):
    app, pilot, ids, messages = keys
    app.main.table.move_to(ids["uploading"])
    await pilot.press("p", "s")
    await settle(pilot)
    assert actions(messages) == ["toggle_pause"]
    assert FileHostUpload.get_by_id(ids["uploading"]).uploaded_bytes == 0
    assert (cell(app, ids["uploading"], "status"), cell(app, ids["uploading"], "pct")) == (
        "paused",
        "0%",
    )
    await pilot.press("enter")
    assert isinstance(app.screen, DetailsScreen)
    progress = str(app.screen.query_one(".detail-progress").render())
    assert "0B of 700MiB 0%, resume sends it again from the start" in progress


async def test_p_on_a_transfer_that_sent_little_pauses_at_once(keys):
    app, pilot, ids, messages = keys
    FileHostUpload.update(uploaded_bytes=MiB).where(FileHostUpload.id == ids["uploading"]).execute()
    app.request_read()
    await settle(pilot)
    app.main.table.move_to(ids["uploading"])
    await pilot.press("p")
    await settle(pilot)
    assert not isinstance(app.screen, PauseOneScreen)
    assert status(ids["uploading"]) == "paused"


# ---- a real transfer -------------------------------------------------------------------------

FAST_ENOUGH = "max_connections = 1\nmax_upload_speed = 2000000"
"""One connection at 2 MB/s: the first upload passes the 4 MiB question mark in about 3 s and
runs for about 12 (time for the drain to land on a busy machine); the rest wait."""


async def test_drain_from_the_dialog_lets_the_running_upload_finish_and_starts_nothing_new(
    tmp_path,
):
    with FakeHost("0x0") as fake:
        paths = make_home(tmp_path / "home", {"0x0": fake}, {"0x0": FAST_ENOUGH})
        src = tmp_path / "src"
        src.mkdir()
        sizes = (24_000_000, 50_000, 50_000)
        for n, size in enumerate(sizes):
            (src / f"f{n}.bin").write_bytes(os.urandom(size))
        ctx = Context(paths)
        running, *waiting = ctx.queue.add([src / f"f{n}.bin" for n in range(3)], ["0x0"])
        session = build_session(ctx)
        session.cursor_blink = False
        session.poll_interval = 0.2
        app = FilehostApp(session)
        try:
            async with app.run_test(size=(100, 30)) as pilot:

                def sent() -> int:
                    live = app.main.table.live.get(running)
                    return live.uploaded if live is not None else 0

                await eventually(pilot, lambda: sent() > 5 * MiB, 60, "5 MiB sent")
                await settle(pilot)
                await pilot.press("P")
                assert isinstance(app.screen, PauseAllScreen)
                await pilot.press("enter")
                await eventually(
                    pilot, lambda: status(running) == "completed", 60, "the running upload"
                )
                await settle(pilot)
                assert [status(w) for w in waiting] == ["paused", "paused"]
                assert [cell(app, w, "pct") for w in waiting] == ["0%", "0%"]
                await eventually(pilot, lambda: not app.engine.active(), 30, "no transfer")
                assert [status(w) for w in waiting] == ["paused", "paused"], "none started"
                await pilot.press("q")
                await eventually(pilot, lambda: not app.is_running, 30, "the app to exit")
        finally:
            ctx.close()
        assert [f.size for f in fake.received] == [24_000_000]


# ---- snapshots -------------------------------------------------------------------------------


async def _paused_row(pilot) -> None:
    app = pilot.app
    await settle(pilot)
    app.main.table.move_to(app.seeded_ids["uploading"])
    await pilot.press("p", "s")
    await settle(pilot)
    app.clear_notifications()  # the toast would leave on its own timer, mid-snapshot
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_pause_dialog_snapshot(seeded, snap_compare, size):
    app, _ = seeded
    assert snap_compare(app, terminal_size=size, run_before=settle, press=["P"])


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_paused_row_snapshot(seeded, snap_compare, size):
    app, _ = seeded
    assert snap_compare(app, terminal_size=size, run_before=_paused_row)
