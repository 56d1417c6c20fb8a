"""In-process mode: the engine's loops run as Textual thread workers, real uploads go to a loopback
fake host, and engine events arrive as messages that update cells in place."""

from __future__ import annotations

import os

from filehost_tui.context import Context
from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.events import BandwidthUpdated, UploadCompleted, UploadProgress
from filehost_tui.engine.models import FileHostUpload
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.launch import build_session
from filehost_tui.tui.messages import (
    BandwidthChanged,
    BandwidthRead,
    EngineReady,
    ProgressUpdated,
    QueueRead,
    UploadChanged,
)
from filehost_tui.tui.screens.confirm import ConfirmScreen
from filehost_tui.tui.widgets.bandwidth import Span
from tests.engine_harness import make_home
from tests.tui_support import NOW, eventually, make_session, settle

SLOW = "max_upload_speed = 400000"  # client-side cap: socket buffers cannot swallow the file


def in_process_app(tmp_path, fake: FakeHost, size: int) -> tuple[FilehostApp, Context, int]:
    paths = make_home(tmp_path / "home", {"0x0": fake}, {"0x0": SLOW})
    src = tmp_path / "src" / "video.bin"
    src.parent.mkdir()
    src.write_bytes(os.urandom(size))
    ctx = Context(paths)
    (upload_id,) = ctx.queue.add([src], ["0x0"])
    session = build_session(ctx)
    session.cursor_blink = False
    session.poll_interval = 0.2
    assert session.mode == "in-process" and session.engine_factory is not None
    return FilehostApp(session), ctx, upload_id


async def test_engine_workers_are_textual_workers_and_progress_updates_the_row(tmp_path):
    messages = []
    with FakeHost("0x0") as fake:
        app, ctx, upload_id = in_process_app(tmp_path, fake, 1_200_000)
        try:
            async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
                await eventually(pilot, lambda: app.engine is not None, 30, "the engine")
                names = {w.name for w in app.workers if w.group == "engine"}
                assert {"ticker", "host-0x0-1", "host-0x0-2"} <= names  # 0x0: 2 connections
                key = str(upload_id)
                await eventually(
                    pilot,
                    lambda: str(app.main.table.get_cell(key, "status")) == "completed",
                    60,
                    "the upload to complete",
                )
                await settle(pilot)
                assert str(app.main.table.get_cell(key, "pct")) == "100%"
                assert str(app.main.table.get_cell(key, "tail")).startswith("127.0.0.1:")
                await pilot.press("q")
                await eventually(pilot, lambda: not app.is_running, 30, "the app to exit")
        finally:
            ctx.close()
        assert [f.size for f in fake.received] == [1_200_000]
    kinds = {type(m) for m in messages}
    assert {EngineReady, ProgressUpdated, BandwidthChanged, UploadChanged} <= kinds
    assert any(
        isinstance(m, ProgressUpdated) and 0 < m.event.uploaded < m.event.total for m in messages
    ), "no progress seen mid-transfer"


async def test_q_during_a_transfer_asks_then_stops_and_requeues_it(tmp_path):
    with FakeHost("0x0") as fake:
        app, ctx, upload_id = in_process_app(tmp_path, fake, 8_000_000)
        try:
            async with app.run_test(size=(100, 30)) as pilot:
                await eventually(
                    pilot,
                    lambda: app.engine is not None and app.engine.active(),
                    30,
                    "a running transfer",
                )
                await pilot.press("q")
                assert isinstance(app.screen, ConfirmScreen)
                question = str(app.screen.query_one("#confirm-question").render())
                assert "1 upload is running" in question
                assert "the next start sends them again from the beginning" in question
                await pilot.press("n")
                assert app.is_running and app.engine is not None
                await pilot.press("q", "y")
                await eventually(pilot, lambda: not app.is_running, 30, "the app to exit")
            assert FileHostUpload.get_by_id(upload_id).status == "pending"
        finally:
            ctx.close()
        assert fake.received == []


async def test_messages_that_arrive_after_the_screen_is_gone_are_dropped(tmp_path):
    """Workers finish late: a read, a progress event or a bandwidth figure may be posted after the
    app closed. They are posted to the main screen, which then takes none, so no handler runs
    against widgets that are gone."""
    session = make_session(tmp_path)
    app = FilehostApp(session)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            main = app.main
            await pilot.press("q")
            await eventually(pilot, lambda: not app.is_running, 30, "the app to exit")
        late = [
            QueueRead([], {}, None, None, NOW),
            ProgressUpdated(UploadProgress(1, 1, "catbox", 10, 100, 5.0)),
            BandwidthChanged(BandwidthUpdated(None, 5.0)),
            BandwidthRead([0.0] * 4, 1.0, Span(30, 4)),
            UploadChanged(UploadCompleted(1, 1, "catbox", "https://x/1", None)),
        ]
        assert [main.post_message(message) for message in late] == [False] * len(late)
    finally:
        session.db.close()
