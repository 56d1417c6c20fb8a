"""`filehost-tui demo`: the newcomer's first command works end to end on loopback; at its own pace
it lasts long enough to try every key, `--fast` is done in seconds for scripts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from filehost_tui.config import env_key, save_setting
from filehost_tui.context import Context
from filehost_tui.demo.session import (
    BIG_FILE_SIZE,
    DEMO_HOSTS,
    FAST_SPEED,
    THROTTLE,
    demo_session,
)
from filehost_tui.paths import AppPaths
from tests.engine_harness import REPO


def test_fast_headless_demo_uploads_everything_shows_a_retry_and_prints_links(tmp_path):
    command = ["--home", str(tmp_path), "demo", "--fast", "--headless"]
    result = subprocess.run(
        [sys.executable, "-m", "filehost_tui", *command],
        capture_output=True,
        text=True,
        timeout=180,
        # a shared queue the user chose is not the demo's: it never connects there
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            "FILEHOST_TUI_DATABASE_URL": "postgresql://u@127.0.0.1:1/nowhere",
        },
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "will retry" in out and "gofile" in out
    links = [
        line for line in out.splitlines() if line.startswith("  ") and "http://127.0.0.1:" in line
    ]
    assert len(links) == 8
    assert "finished: 8 completed and 0 failed" in out
    # the demo keeps to its own home: the user's queue is untouched
    assert not (tmp_path / "filehost-tui.db").exists()


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """Open a demo session (fakes started, queue filled) and give (session, uploads, context)."""
    monkeypatch.delenv(env_key("pixeldrain", "API_KEY"), raising=False)  # the demo sets it

    def open_demo(**pace):
        close()  # one demo at a time: the next one lays its home out afresh
        opened.append(demo_session(AppPaths.resolve(tmp_path), **pace))
        session = opened[-1].__enter__()
        opened.append(Context(session.paths))
        session.queue(opened[-1].queue)
        return session, opened[-1].queue.uploads(), opened[-1]

    def close():
        while opened:
            held = opened.pop()
            if isinstance(held, Context):
                held.close()
            else:
                held.__exit__(None, None, None)

    opened: list = []
    yield open_demo
    close()


def seconds_at_throttle(upload) -> float:
    return upload.total_bytes / THROTTLE[upload.host_name]


def test_own_pace_lasts_long_enough_to_pause_and_gives_links_at_once(demo):
    session, uploads, ctx = demo(fast=False, interactive=True)
    for host_id, fake in session.fakes.items():
        assert fake.throttle_bps == THROTTLE[host_id] > 0  # the hosts are slow, not the client
        assert ctx.config.host(host_id).max_upload_speed == 0
    assert {u.host_name for u in uploads} == set(DEMO_HOSTS)
    assert len(uploads) == 12
    times = sorted(seconds_at_throttle(u) for u in uploads)
    assert times[0] < 1  # notes.txt: a link to copy within a second
    assert times[-1] > 180  # concert.mkv: minutes to try p on it
    assert sum(t > 20 for t in times) >= 6  # gallery and clip: running long enough to try c
    (concert,) = [u for u in uploads if u.item.name == "concert.mkv"]
    assert concert.total_bytes == BIG_FILE_SIZE
    assert os.stat(concert.item.path).st_blocks * 512 < 1024 * 1024  # sparse: no disk used


def test_own_pace_in_the_tui_plans_one_failure_to_retry_and_one_automatic_retry(demo):
    session, uploads, ctx = demo(fast=False, interactive=True)
    assert [f.kind for f in session.fakes["0x0"].pending_faults()] == ["no_link"]
    (retry,) = session.fakes["gofile"].pending_faults()
    assert (retry.kind, retry.times, retry.param("status")) == ("status", 2, 503)


def test_own_pace_headless_plans_no_failure_nobody_could_retry(demo):
    session, uploads, ctx = demo(fast=False, interactive=False)
    assert session.fakes["0x0"].pending_faults() == []


def test_fast_pace_is_the_quick_demo(demo):
    session, uploads, ctx = demo(fast=True, interactive=True)
    assert len(uploads) == 8
    assert all(fake.throttle_bps == 0 for fake in session.fakes.values())
    assert all(ctx.config.host(h).max_upload_speed == FAST_SPEED for h in DEMO_HOSTS)
    assert session.fakes["0x0"].pending_faults() == []


def test_the_theme_picked_in_a_demo_is_kept_by_the_next_demo(demo):
    session, uploads, ctx = demo(fast=True, interactive=True)
    save_setting(session.paths.config_file, "tui", "theme", "nord")
    session, uploads, ctx = demo(fast=True, interactive=True)
    assert ctx.config.tui.theme == "nord"
