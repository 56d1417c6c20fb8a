"""Attached mode: a `filehost-tui run` in another process owns the database; the app starts no
workers, shows the runner's progress from the database, and its keys go through the control plane."""

from __future__ import annotations

import os
import signal
import time

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.models import FileHostUpload
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.screens.confirm import ConfirmScreen
from tests.engine_harness import cli, make_home, spawn_runner
from tests.tui_support import attached_session, eventually

SIZE = 12_000_000
SLOW = "max_upload_speed = 400000"  # 30 s for the whole file: a cancel must cut it short


async def test_attached_app_shows_runner_progress_and_c_cancels_its_transfer(tmp_path):
    src = tmp_path / "src" / "big.bin"
    src.parent.mkdir()
    src.write_bytes(os.urandom(SIZE))
    with FakeHost("0x0") as fake:
        paths = make_home(tmp_path / "home", {"0x0": fake}, {"0x0": SLOW})
        assert cli(paths, "add", str(src), "--host", "0x0").returncode == 0
        runner = spawn_runner(paths, "--until-idle")
        ctx = None
        try:
            ctx, session = attached_session(paths, runner)
            (upload_id,) = [u.id for u in ctx.queue.uploads()]
            assert session.mode == "attached" and not session.can_take_over
            app = FilehostApp(session)
            key = str(upload_id)
            async with app.run_test(size=(100, 30)) as pilot:
                assert app.sub_title == f"attached to runner (pid {runner.pid})"

                def shows_progress() -> bool:
                    pct = (
                        str(app.main.table.get_cell(key, "pct")) if app.main.table.row_count else ""
                    )
                    speed = str(app.main.table.get_cell(key, "speed")) if pct else ""
                    return pct not in ("", "0%") and speed != ""

                await eventually(pilot, shows_progress, 30, "the runner's progress on screen")
                assert app.engine is None
                assert not [w for w in app.workers if w.group == "engine"]
                assert str(app.query_one("#host-0x0 .host-counts").render()).split()[0] == "1"

                app.main.table.move_to(upload_id)
                await pilot.press("c")
                assert isinstance(app.screen, ConfirmScreen)
                await pilot.press("y")
                cancelled_at = time.monotonic()
                await eventually(
                    pilot,
                    lambda: str(app.main.table.get_cell(key, "status")) == "cancelled",
                    30,
                    "the cancelled row",
                )
                # --until-idle: the runner exits once its aborted transfer is gone, long before
                # the 30 s the whole file would take; the app notices it is alone
                await eventually(pilot, lambda: runner.poll() is not None, 30, "runner exit")
                assert time.monotonic() - cancelled_at < 15
                await eventually(pilot, lambda: "stopped" in app.sub_title, 10, "the notice")
            runner.communicate(timeout=30)
            assert runner.returncode == 0
        finally:
            if runner.poll() is None:
                runner.send_signal(signal.SIGTERM)
                runner.communicate(timeout=30)
            if ctx is not None:
                ctx.close()
        assert fake.received == []
        assert FileHostUpload.get_by_id(upload_id).status == "cancelled"
