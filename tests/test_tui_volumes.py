"""An item's volumes in the TUI: grouped in volume order, each saying which volume it is, and the
running one's phase `volume 2/5`. Real app (run_test + Pilot), real SQLite, SVG snapshot."""

from __future__ import annotations

import time

import pytest

from filehost_tui.config import HostSettings
from filehost_tui.engine.events import UploadProgress
from filehost_tui.engine.volumes import host_limit
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.messages import ProgressUpdated
from filehost_tui.tui.queue_view import UploadRow, item_label, shown_phase
from tests.tui_support import MiB, make_file, make_session, settle

VOLUME = 100 * MiB


@pytest.fixture
def app(tmp_path, monkeypatch):
    """`season.mkv` (5 volumes for catbox, whole for gofile) between two plain files; volume 1
    done, volume 2 sending, the rest waiting."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    session = make_session(tmp_path, hosts=("catbox", "gofile"))
    q = session.queue
    q.host_limits = {
        "catbox": host_limit(None, HostSettings(split_size=VOLUME)),
        "gofile": None,
    }
    files = tmp_path / "files"
    before = q.add([make_file(files, "intro.txt", 4096)], ["catbox"])
    volumes = q.add([make_file(files, "season.mkv", 4 * VOLUME + 7 * MiB)], ["catbox", "gofile"])
    after = q.add([make_file(files, "notes.txt", 2048)], ["catbox"])
    for upload_id in (*before, volumes[0]):
        q.claim("catbox", "test")
        q.complete(upload_id, f"https://files.catbox.example/{upload_id}", str(upload_id))
    running = q.claim("catbox", "test")
    q.progress(volumes[1], 40 * MiB, running.lease)
    app = FilehostApp(session)
    app.ids = (before, volumes, after)
    yield app
    session.db.close()
    monkeypatch.undo()
    time.tzset()


def cells(app, upload_id: int) -> list[str]:
    return [str(c) for c in app.main.table.get_row(str(upload_id))]


async def sending_volume_2(pilot) -> None:
    app = pilot.app
    await settle(pilot)
    upload_id = app.ids[1][1]
    event = UploadProgress(upload_id, 2, "catbox", 42 * MiB, VOLUME, 3.1 * MiB)
    app.main.post_message(ProgressUpdated(event))
    await settle(pilot)


async def test_volumes_stand_together_in_order_and_say_which_they_are(app):
    before, volumes, after = app.ids
    async with app.run_test(size=(80, 24)) as pilot:
        await sending_volume_2(pilot)
        table = app.main.table
        assert table.shown_ids == [*before, *volumes, *after]
        assert [cells(app, i)[0] for i in volumes] == [
            "┌ 1/5 season.mkv",
            "├ 2/5 season.mkv",
            "├ 3/5 season.mkv",
            "├ 4/5 season.mkv",
            "└ 5/5 season.mkv",
            "season.mkv",  # gofile takes it whole
        ]
        assert [cells(app, i)[2] for i in volumes] == [
            "completed",
            "volume 2/5",
            "pending",
            "pending",
            "pending",
            "pending",
        ]
        assert cells(app, before[0])[0] == "intro.txt"


async def test_the_running_volume_says_so_without_engine_progress_too(app):
    """Attached to a runner, the TUI has no live phase: the row alone says which volume runs."""
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert cells(app, app.ids[1][1])[2] == "volume 2/5"


async def test_the_details_of_a_volume_name_the_part_the_host_got(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main.table.move_to(app.ids[1][2])
        await pilot.press("enter")
        await settle(pilot)
        text = " ".join(str(w.render()) for w in app.screen.query(".detail-volume"))
        assert "3 of 5: season.mkv.003 (cat season.mkv.* > season.mkv joins them)" in text


def test_volumes_grouped_at_80x24(app, snap_compare):
    assert snap_compare(app, terminal_size=(80, 24), run_before=sending_volume_2)


def test_a_long_volume_count_is_shortened_to_fit_the_status_column():
    row = UploadRow(1, 1, "x", "catbox", "uploading", 0, 9, 0, None, None, None, 0.0)
    twelfth = row._replace(volume=12, volumes=30)
    assert shown_phase(twelfth, "uploading") == "vol 12/30"
    assert shown_phase(twelfth, "volume 12/30") == "vol 12/30"
    assert shown_phase(twelfth, "hashing") == "hashing"  # reading CRCs before its range
    assert shown_phase(row, "uploading") == "uploading"
    assert item_label(twelfth) == "├ 12/30 x"
