"""SVG snapshots of every screen, from fixed data, a fixed clock, UTC and no cursor blink.

Update after an intended change with: pytest tests/test_tui_snapshots.py --snapshot-update
"""

from __future__ import annotations

import time

import pytest

from filehost_tui.engine.events import BandwidthUpdated, UploadProgress
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.messages import BandwidthChanged, ProgressUpdated
from tests.tui_support import MiB, make_session, seed_mid_upload, settle


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    session = make_session(tmp_path)
    ids = seed_mid_upload(session, tmp_path / "files")
    app = FilehostApp(session)
    app.seeded_ids = ids
    yield app
    session.db.close()
    monkeypatch.undo()
    time.tzset()


async def mid_upload(pilot) -> None:
    """What the engine would have posted by now: live progress and speeds."""
    app = pilot.app
    await settle(pilot)
    upload_id = app.seeded_ids["uploading"]
    app.main.post_message(
        ProgressUpdated(UploadProgress(upload_id, 1, "gofile", 320 * MiB, 700 * MiB, 2.4 * MiB))
    )
    app.main.post_message(BandwidthChanged(BandwidthUpdated("gofile", 2.4 * MiB)))
    app.main.post_message(BandwidthChanged(BandwidthUpdated(None, 2.4 * MiB)))
    await settle(pilot)
    app.request_read()  # the hosts panel picks up the host speed on its next read
    await settle(pilot)


def test_main_screen_mid_upload(app, snap_compare):
    assert snap_compare(app, terminal_size=(110, 30), run_before=mid_upload)


def test_main_screen_at_80x24(app, snap_compare):
    assert snap_compare(app, terminal_size=(80, 24), run_before=mid_upload)


def test_add_modal(app, snap_compare):
    assert snap_compare(app, terminal_size=(80, 24), run_before=mid_upload, press=["a"])


def test_details_of_a_failed_upload(app, snap_compare):
    async def select_failed(pilot):
        await mid_upload(pilot)
        pilot.app.main.table.move_to(pilot.app.seeded_ids["retrying"])

    assert snap_compare(app, terminal_size=(80, 24), run_before=select_failed, press=["enter"])


def test_statistics(app, snap_compare):
    assert snap_compare(app, terminal_size=(80, 24), run_before=mid_upload, press=["s"])


def test_help(app, snap_compare):
    assert snap_compare(app, terminal_size=(80, 24), run_before=mid_upload, press=["question_mark"])
