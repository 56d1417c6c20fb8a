"""Every key of the main screen: the right control-plane call (seen as an ActionDone message and in
the database) and the right visible change. Real SQLite under tmp_path, no engine: the rows are
fixed data, so each test sees exactly what one key did."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, SelectionList

from filehost_tui.engine.models import FileHostUpload
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.bindings import KEYS
from filehost_tui.tui.messages import ActionDone
from filehost_tui.tui.screens.add_modal import AddModal
from filehost_tui.tui.screens.confirm import ConfirmScreen
from filehost_tui.tui.screens.details import DetailsScreen
from filehost_tui.tui.screens.help import HelpScreen
from filehost_tui.tui.screens.pause_dialogs import PauseAllScreen
from filehost_tui.tui.screens.stats import StatsScreen
from filehost_tui.tui.widgets.filter_bar import FilterBar
from tests.tui_support import make_file, make_session, seed_mid_upload, settle


@pytest.fixture
def seeded(tmp_path):
    session = make_session(tmp_path)
    ids = seed_mid_upload(session, tmp_path / "files")
    yield session, ids
    session.db.close()


def status(upload_id: int) -> str:
    return FileHostUpload.get_by_id(upload_id).status


def cell(app: FilehostApp, upload_id: int, column: str) -> str:
    return str(app.main.table.get_cell(str(upload_id), column))


def done(messages, action: str) -> list[ActionDone]:
    return [m for m in messages if isinstance(m, ActionDone) and m.action == action]


@pytest.fixture
async def keys(seeded):
    """The app over the seeded rows, settled: (app, pilot, session, ids, messages seen)."""
    session, ids = seeded
    messages: list = []
    app = FilehostApp(session)
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await settle(pilot)
        yield app, pilot, session, ids, messages


async def test_r_retries_the_selected_failed_upload(keys) -> None:
    app, pilot, session, ids, messages = keys
    assert cell(app, ids["failed"], "status") == "failed"
    app.main.table.move_to(ids["failed"])
    await pilot.press("r")
    await settle(pilot)
    assert [m.upload_ids for m in done(messages, "retry")] == [(ids["failed"],)]
    assert status(ids["failed"]) == "pending"
    assert cell(app, ids["failed"], "status") == "pending"
    assert cell(app, ids["failed"], "tail") == ""


async def test_r_is_dimmed_and_does_nothing_on_a_completed_upload(keys) -> None:
    app, pilot, session, ids, messages = keys
    app.main.table.move_to(ids["done"])
    assert app.main.check_action("retry", ()) is None
    await pilot.press("r")
    await settle(pilot)
    assert done(messages, "retry") == []
    assert status(ids["done"]) == "completed"


async def test_c_cancels_a_queued_upload_without_asking(keys) -> None:
    app, pilot, session, ids, messages = keys
    app.main.table.move_to(ids["pending"])
    await pilot.press("c")
    await settle(pilot)
    assert not isinstance(app.screen, ConfirmScreen)
    assert status(ids["pending"]) == "cancelled"
    assert cell(app, ids["pending"], "status") == "cancelled"


async def test_c_on_an_active_transfer_asks_and_n_keeps_it(keys) -> None:
    app, pilot, session, ids, messages = keys
    app.main.table.move_to(ids["uploading"])
    await pilot.press("c")
    assert isinstance(app.screen, ConfirmScreen)
    assert "uploading to gofile now" in str(app.screen.query_one("#confirm-question").render())
    await pilot.press("n")
    await settle(pilot)
    assert done(messages, "cancel") == []
    assert status(ids["uploading"]) == "uploading"


async def test_c_on_an_active_transfer_then_y_cancels_it(keys) -> None:
    app, pilot, session, ids, messages = keys
    app.main.table.move_to(ids["uploading"])
    await pilot.press("c", "y")
    await settle(pilot)
    assert [m.upload_ids for m in done(messages, "cancel")] == [(ids["uploading"],)]
    assert status(ids["uploading"]) == "cancelled"
    assert cell(app, ids["uploading"], "status") == "cancelled"


async def test_p_pauses_then_resumes_the_selected_upload(keys) -> None:
    app, pilot, session, ids, messages = keys
    app.main.table.move_to(ids["pending"])
    await pilot.press("p")
    await settle(pilot)
    assert status(ids["pending"]) == "paused"
    assert cell(app, ids["pending"], "status") == "paused"
    await pilot.press("p")
    await settle(pilot)
    assert status(ids["pending"]) == "pending"
    assert cell(app, ids["pending"], "status") == "pending"
    assert [m.result for m in done(messages, "toggle_pause")] == [
        f"upload {ids['pending']}: paused",
        f"upload {ids['pending']}: pending",
    ]


async def test_shift_p_pauses_everything_then_resumes_everything(keys) -> None:
    app, pilot, session, ids, messages = keys
    await pilot.press("P")  # 301M sent on gofile: it asks; s stops now
    assert isinstance(app.screen, PauseAllScreen)
    await pilot.press("s")
    await settle(pilot)
    assert [m.action for m in messages if isinstance(m, ActionDone)] == ["pause_all"]
    for key in ("uploading", "pending", "retrying"):
        assert status(ids[key]) == "paused", key
    assert "⏸ paused" in str(app.query_one("#host-gofile .host-marker").render())
    await pilot.press("P")
    await settle(pilot)
    assert done(messages, "resume_all")[0].result == "resumed 4 upload(s)"
    assert status(ids["pending"]) == "pending"


async def test_enter_opens_details_with_the_full_error(keys) -> None:
    app, pilot, session, ids, messages = keys
    app.main.table.move_to(ids["failed"])
    await pilot.press("enter")
    assert isinstance(app.screen, DetailsScreen)
    text = str(app.screen.query_one(".detail-error").render())
    assert "too_large: file is larger than 2 GiB" in text
    await pilot.press("escape")
    assert not isinstance(app.screen, DetailsScreen)


async def test_y_copies_the_link_of_a_completed_upload(keys) -> None:
    app, pilot, session, ids, messages = keys
    app.main.table.move_to(ids["done"])
    await pilot.press("y")
    assert app.clipboard == "https://files.catbox.example/abc123.zip"
    app.main.table.move_to(ids["pending"])
    assert app.main.check_action("copy_link", ()) is None  # dimmed: nothing to copy yet


async def test_s_shows_statistics_per_host_and_switches_period(keys) -> None:
    app, pilot, session, ids, messages = keys
    await pilot.press("s")
    assert isinstance(app.screen, StatsScreen)
    table = app.screen.query_one("#stats-table", DataTable)
    assert [str(table.get_cell("catbox", c)) for c in ("files", "failed", "ok%")] == [
        "1",
        "0",
        "100%",
    ]
    await pilot.press("right")
    await pilot.pause()
    assert app.screen.period == "24h"
    assert str(table.get_cell("total", "failed")) == "1"


async def test_slash_filters_by_host_and_escape_clears(keys) -> None:
    app, pilot, session, ids, messages = keys
    everything = app.main.table.shown_ids
    await pilot.press("slash")
    assert app.query_one(FilterBar).has_focus
    await pilot.press(*"host:gofile")
    await pilot.pause()
    assert app.main.table.shown_ids == [ids["uploading"], ids["retrying"], ids["cancelled"]]
    await pilot.press("enter")
    assert app.main.table.has_focus and "filter: host:gofile" in app.sub_title
    await pilot.press("slash", "escape")
    await pilot.pause()
    assert app.main.table.shown_ids == everything


async def test_slash_filters_by_status_word(keys) -> None:
    app, pilot, session, ids, messages = keys
    await pilot.press("slash", *"failed")
    await pilot.pause()
    assert app.main.table.shown_ids == [ids["failed"]]


async def test_h_hides_finished_uploads_and_keeps_the_cursor_on_its_upload(keys) -> None:
    app, pilot, session, ids, messages = keys
    app.main.table.move_to(ids["paused"])
    await pilot.press("h")
    finished = {ids["done"], ids["failed"], ids["cancelled"]}
    assert not finished & set(app.main.table.shown_ids)
    assert app.main.table.selected_id() == ids["paused"]
    await pilot.press("h")
    assert finished <= set(app.main.table.shown_ids)
    assert app.main.table.selected_id() == ids["paused"]


async def test_question_mark_lists_every_key(keys) -> None:
    app, pilot, session, ids, messages = keys
    await pilot.press("question_mark")
    assert isinstance(app.screen, HelpScreen)
    table = app.screen.query_one(DataTable)
    listed = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
    assert {k.help for k in KEYS} <= listed


async def test_a_adds_a_file_for_the_chosen_host(keys, tmp_path) -> None:
    app, pilot, session, ids, messages = keys
    new_file = make_file(tmp_path / "more", "poster.png", 5000)
    await pilot.press("a")
    assert isinstance(app.screen, AddModal)
    app.screen.query_one("#add-path", Input).value = str(new_file)
    hosts = app.screen.query_one(SelectionList)
    hosts.select("pixeldrain")
    await pilot.press("ctrl+s")
    await settle(pilot)
    added = done(messages, "add")
    assert added and added[0].ok, added[0].result if added else messages
    (new_id,) = added[0].upload_ids
    assert FileHostUpload.get_by_id(new_id).host_name == "pixeldrain"
    assert cell(app, new_id, "item") == "poster.png"
    assert app.main.table.shown_ids[-1] == new_id


async def test_a_refuses_a_missing_path_inside_the_dialog(keys, tmp_path) -> None:
    app, pilot, session, ids, messages = keys
    await pilot.press("a", *"/no/such/thing", "ctrl+s")
    assert isinstance(app.screen, AddModal)
    assert "no such file or folder" in str(app.screen.query_one("#add-error").render())


async def test_add_dialog_tab_completes_the_path(keys, tmp_path) -> None:
    app, pilot, session, ids, messages = keys
    make_file(tmp_path / "pics", "sunset-large.jpg", 10)
    await pilot.press("a")
    path_input = app.screen.query_one("#add-path", Input)
    path_input.value = f"{tmp_path}/pics/su"
    await pilot.press("n")  # typing asks the suggester (a worker) for a completion
    await settle(pilot)
    await pilot.press("tab")
    assert app.screen.query_one("#add-path", Input).value == f"{tmp_path}/pics/sunset-large.jpg"


async def test_q_without_running_transfers_quits_at_once(keys) -> None:
    app, pilot, session, ids, messages = keys
    await pilot.press("q")
    await pilot.pause()
    assert app.return_code == 0
    assert not app.is_running


async def test_command_palette_offers_every_key_action(keys) -> None:
    app, pilot, session, ids, messages = keys
    titles = [c.title for c in app.get_system_commands(app.screen)]
    for key in KEYS:
        assert any(t.lower().startswith(key.label) for t in titles), key.label
    app.main.table.move_to(ids["failed"])
    await pilot.press("ctrl+p", *"Retry")
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)
    assert status(ids["failed"]) == "pending"


async def test_y_in_the_details_dialog_copies_the_link(keys) -> None:
    app, pilot, session, ids, messages = keys
    app.main.table.move_to(ids["done"])
    await pilot.press("enter", "y")
    assert isinstance(app.screen, DetailsScreen)
    assert app.clipboard == "https://files.catbox.example/abc123.zip"
