"""The add dialog from the keyboard: tab completes only a partial path, so a folder can be queued
as a folder; enter queues once a host is picked; a problem line goes once its field is fixed."""

from __future__ import annotations

import pytest
from textual.widgets import Input, SelectionList

from filehost_tui.engine.models import FileHostUpload
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.messages import ActionDone
from filehost_tui.tui.screens.add_modal import AddModal
from tests.tui_support import make_file, make_session, settle


@pytest.fixture
async def dialog(tmp_path):
    """The add dialog open over an empty queue, and a folder `myfolder` holding one.dat."""
    session = make_session(tmp_path)
    make_file(tmp_path / "myfolder", "one.dat", 10)
    messages: list = []
    app = FilehostApp(session)
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("a")
        assert isinstance(app.screen, AddModal)
        yield app, pilot, messages
    session.db.close()


async def type_path(pilot, value: str) -> Input:
    """Set all but the last character, type the last (that asks the suggester), let it answer."""
    path_input = pilot.app.screen.query_one("#add-path", Input)
    path_input.value = value[:-1]
    await pilot.press(value[-1])
    await settle(pilot)
    return path_input


def added_items(messages) -> list[FileHostUpload]:
    done = [m for m in messages if isinstance(m, ActionDone) and m.action == "add"]
    assert done and done[0].ok, done[0].result if done else "no add happened"
    return [FileHostUpload.get_by_id(i) for i in done[0].upload_ids]


async def test_tab_completes_a_folder_name_then_moves_on_instead_of_walking_in(dialog, tmp_path):
    app, pilot, messages = dialog
    path_input = await type_path(pilot, f"{tmp_path}/myfol")
    await pilot.press("tab")
    assert path_input.value == f"{tmp_path}/myfolder/"
    await pilot.press("tab")  # the input names a folder now: tab goes to the hosts
    assert path_input.value == f"{tmp_path}/myfolder/"
    assert isinstance(app.focused, SelectionList)
    await pilot.press("space", "ctrl+s")
    await settle(pilot)
    (upload,) = added_items(messages)
    assert upload.item.kind == "folder" and upload.item.name == "myfolder"


async def test_enter_on_a_folder_queues_the_folder_once_a_host_is_picked(dialog, tmp_path):
    app, pilot, messages = dialog
    app.screen.query_one(SelectionList).select("gofile")
    path_input = await type_path(pilot, f"{tmp_path}/myfolder")
    assert path_input._suggestion == f"{tmp_path}/myfolder/"  # offered, not taken
    path_input.focus()
    await pilot.press("enter")
    await settle(pilot)
    (upload,) = added_items(messages)
    assert upload.item.kind == "folder" and upload.host_name == "gofile"


async def test_enter_on_a_path_with_no_host_picked_goes_to_the_hosts(dialog, tmp_path):
    app, pilot, messages = dialog
    await type_path(pilot, f"{tmp_path}/myfolder")
    await pilot.press("enter")
    assert isinstance(app.screen, AddModal)
    assert isinstance(app.focused, SelectionList)


async def test_right_arrow_still_takes_the_suggestion_of_an_existing_path(dialog, tmp_path):
    app, pilot, messages = dialog
    path_input = await type_path(pilot, f"{tmp_path}/myfolder/")
    await pilot.press("right")
    assert path_input.value == f"{tmp_path}/myfolder/one.dat"


async def test_pick_a_host_line_goes_once_a_host_is_picked(dialog, tmp_path):
    app, pilot, messages = dialog
    error = app.screen.query_one("#add-error")
    await type_path(pilot, f"{tmp_path}/myfolder")
    await pilot.press("ctrl+s")
    assert "Pick at least one host" in str(error.render())
    app.screen.query_one(SelectionList).focus()
    await pilot.press("space")
    await pilot.pause()
    assert str(error.render()).strip() == ""
    assert isinstance(app.screen, AddModal)  # picking a host does not queue by itself


async def test_a_missing_path_line_goes_once_the_path_changes(dialog, tmp_path):
    app, pilot, messages = dialog
    error = app.screen.query_one("#add-error")
    await type_path(pilot, f"{tmp_path}/nothing-here")
    await pilot.press("ctrl+s")
    assert "no such file or folder" in str(error.render())
    await pilot.press("x")
    assert str(error.render()).strip() == ""


async def test_enter_on_a_missing_path_says_so_and_stays(dialog, tmp_path):
    app, pilot, messages = dialog
    path_input = await type_path(pilot, f"{tmp_path}/nothing-here")
    await pilot.press("enter")
    assert "no such file or folder" in str(app.screen.query_one("#add-error").render())
    assert app.focused is path_input
