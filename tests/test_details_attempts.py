"""The details screen counts an upload's attempts over its life: a retry by hand (which starts the
retry budget again) does not make the attempts before it disappear. Real CLI in subprocesses, a
fake host failing on purpose, then the real app and its details screen."""

from __future__ import annotations

from filehost_tui.context import Context
from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.attempts import attempts_of
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.launch import build_session
from filehost_tui.tui.screens.details import DetailsScreen, attempts_text
from tests.engine_harness import cli, make_home
from tests.tui_support import settle


async def details_attempts(paths, upload_id: int) -> str:
    """What the details screen of `upload_id` says on its attempts line (no workers started)."""
    ctx = Context(paths)
    try:
        session = build_session(ctx)
        session.engine_factory, session.poll_interval, session.cursor_blink = None, 0, False
        app = FilehostApp(session)
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            app.main.table.move_to(upload_id)
            await pilot.press("enter")
            assert isinstance(app.screen, DetailsScreen)
            (line,) = app.screen.query(".detail-attempts")
            return str(line.render()).split(None, 1)[1]
    finally:
        ctx.close()


async def test_attempts_before_a_cli_retry_still_count_after_it(tmp_path):
    src = tmp_path / "clip.bin"
    src.write_bytes(b"x" * 5000)
    with FakeHost("0x0") as fake:
        paths = make_home(tmp_path / "home", {"0x0": fake}, {"0x0": "max_retries = 1"})
        assert cli(paths, "add", str(src), "--host", "0x0").returncode == 0
        fake.inject("status", status=503, times=2)
        assert cli(paths, "run", "--until-idle").returncode == 1  # 503, retried once, 503
        assert await details_attempts(paths, 1) == "2 (1 automatic retry)"

        assert cli(paths, "retry", "1").returncode == 0
        assert (
            await details_attempts(paths, 1) == "2 in all: 2 before the retry by hand, none since"
        )

        fake.inject("status", status=503)
        assert cli(paths, "run", "--until-idle").returncode == 0  # 503, then the link
    assert await details_attempts(paths, 1) == (
        "4 in all: 2 before the retry by hand, 2 since (1 automatic retry)"
    )


def test_attempts_count_what_reached_the_host_in_every_state(store, metrics, clock, sample_file):
    (upload_id,) = store.add([sample_file], ["alpha"])

    def seen() -> str:
        return attempts_text(attempts_of(store.get(upload_id)))

    assert seen() == "none yet"
    store.claim("alpha", "w")
    assert seen() == "1 (no automatic retries)"
    store.fail(upload_id, "server", "503", retryable=True, max_retries=5, base_delay=0)
    assert seen() == "1 (1 automatic retry)"  # the second waits its turn
    clock.now += 1
    store.claim("alpha", "w")
    store.fail(upload_id, "auth", "denied", retryable=False, max_retries=5, base_delay=0)
    metrics.record_upload_failure("alpha", 1, upload_id, "denied", 1, False)
    assert seen() == "2 (1 automatic retry)"
    store.cancel(upload_id)  # failed, then cancelled: the round's two attempts stay
    assert seen() == "2 (1 automatic retry)"

    clock.now += 1
    store.retry(upload_id)
    assert seen() == "2 in all: 2 before the retry by hand, none since"
    store.claim("alpha", "w")
    assert seen() == "3 in all: 2 before the retry by hand, 1 since (no automatic retries)"
    store.pause(upload_id)  # cut short by the user: not an attempt the host judged
    assert seen() == "2 in all: 2 before the retry by hand, none since"
    store.cancel(upload_id)
    assert seen() == "2 in all: 2 before the retry by hand, none since"

    clock.now += 1
    store.retry(upload_id)
    store.claim("alpha", "w")
    store.complete(upload_id, "http://127.0.0.1/f", None)
    metrics.record_upload_success("alpha", 1, upload_id, 1.0, 10, 10.0, 0)
    assert seen() == "3 in all: 2 before the retry by hand, 1 since (no automatic retries)"
