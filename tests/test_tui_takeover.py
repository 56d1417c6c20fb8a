"""An attached window whose runner stopped can take over: `u` takes the runner lock and starts the
workers in this process. A real `filehost-tui run` process, stopped with SIGTERM; the real app."""

from __future__ import annotations

import os
import signal

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.models import FileHostUpload
from filehost_tui.engine.runner_lock import runner_pid
from filehost_tui.tui.app import FilehostApp
from tests.engine_harness import cli, make_home, spawn_runner, wait_until
from tests.tui_support import attached_session, eventually, settle

SIZE = 3_000_000
SLOW_BPS = 150_000  # the runner would need 20 s: it is stopped long before


async def test_u_takes_over_from_a_stopped_runner_and_the_upload_completes_here(tmp_path):
    src = tmp_path / "src" / "big.bin"
    src.parent.mkdir()
    src.write_bytes(os.urandom(SIZE))
    with FakeHost("0x0", throttle_bps=SLOW_BPS) as fake:
        paths = make_home(tmp_path / "home", {"0x0": fake})
        assert cli(paths, "add", str(src), "--host", "0x0").returncode == 0
        runner = spawn_runner(paths)
        ctx = None
        try:
            ctx, session = attached_session(paths, runner)
            (upload_id,) = [u.id for u in ctx.queue.uploads()]
            app = FilehostApp(session)
            async with app.run_test(size=(100, 30)) as pilot:
                assert session.mode == "attached" and app.engine is None
                await settle(pilot)
                assert not can_upload_here(app)
                await pilot.press("u")  # nothing to take over while the runner runs
                assert session.mode == "attached" and app.engine is None
                await eventually(
                    pilot,
                    lambda: FileHostUpload.get_by_id(upload_id).uploaded_bytes > 0,
                    30,
                    "the runner sending",
                )

                runner.send_signal(signal.SIGTERM)
                assert runner.wait(timeout=30) == 128 + signal.SIGTERM
                await eventually(pilot, lambda: session.runner_stopped, 10, "the stop noticed")
                assert app.sub_title == f"runner (pid {runner.pid}) stopped; press u to upload here"
                assert can_upload_here(app)
                assert FileHostUpload.get_by_id(upload_id).status == "pending"  # requeued

                fake.throttle_bps = 0
                await pilot.press("u")
                await eventually(pilot, lambda: app.engine is not None, 30, "workers here")
                assert runner_pid(paths) == os.getpid()
                assert app.sub_title == "uploading in this window"
                assert not can_upload_here(app)
                await eventually(
                    pilot,
                    lambda: FileHostUpload.get_by_id(upload_id).status == "completed",
                    60,
                    "the upload done in this process",
                )
                await eventually(
                    pilot,
                    lambda: str(app.main.table.get_cell(str(upload_id), "status")) == "completed",
                    10,
                    "the row on screen",
                )
        finally:
            if runner.poll() is None:
                runner.send_signal(signal.SIGTERM)
            runner.communicate(timeout=30)
            if ctx is not None:
                ctx.close()
        # the stopped runner's last bytes may still reach the host from its socket buffers, so
        # the host may hold that copy too; the link on the row is the one this process got
        assert fake.received and {f.size for f in fake.received} == {SIZE}
        assert FileHostUpload.get_by_id(upload_id).download_url.startswith(fake.base_url)
    assert runner_pid(paths) is None  # the app let the lock go as it closed


def can_upload_here(app) -> bool:
    """Whether the footer offers `u` (the key shows only while there is a runner to replace)."""
    binding = app.main.active_bindings.get("u")
    return binding is not None and binding.enabled and app.main.check_action("upload_here", ())


async def test_a_runner_that_took_the_lock_first_wins_and_is_watched(tmp_path):
    paths = make_home(tmp_path / "home", {})
    first = spawn_runner(paths)
    runners = [first]
    ctx = None
    try:
        ctx, session = attached_session(paths, first)
        app = FilehostApp(session)
        async with app.run_test(size=(100, 30)) as pilot:
            first.send_signal(signal.SIGTERM)
            first.communicate(timeout=30)
            await eventually(pilot, lambda: session.runner_stopped, 10, "the stop noticed")
            second = spawn_runner(paths)
            runners.append(second)
            wait_until(lambda: runner_pid(paths) == second.pid, 30, "the second runner's lock")
            await pilot.press("u")
            await eventually(pilot, lambda: session.mode == "attached", 30, "attached again")
            assert (session.runner_pid, session.runner_stopped) == (second.pid, False)
            assert app.sub_title == f"attached to runner (pid {second.pid})"
            assert app.engine is None and not can_upload_here(app)
    finally:
        for runner in runners:
            if runner.poll() is None:
                runner.send_signal(signal.SIGTERM)
            runner.communicate(timeout=30)
        if ctx is not None:
            ctx.close()
