"""The runners panel keeps the live runners in sight: running, then stale, then stopped (newest
heartbeat first), and a "+N more" line when they do not all fit (Pilot)."""

from __future__ import annotations

from filehost_tui.engine.models import Runner
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.widgets.runners_panel import RunnersPanel
from tests.tui_support import NOW, make_session, settle


def seed(runners: tuple[tuple[str, float, str], ...]) -> None:
    for name, beat, state in runners:
        Runner.create(
            name=name, machine="box", pid=1, started_ts=NOW - 9000, heartbeat_ts=NOW - beat,
            state=state, active=0, bytes_per_s=0.0,
        )  # fmt: skip


async def panel_lines(tmp_path, *runners: tuple[str, float, str]) -> list[str]:
    """The panel's lines under its header, with these (name, seconds since heartbeat, state)."""
    session = make_session(tmp_path, show_runners=True)
    seed(runners)
    app = FilehostApp(session)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            panel = app.query_one(RunnersPanel)
            assert panel.display
            return str(panel.render()).splitlines()[1:]
    finally:
        session.db.close()


async def test_live_runners_come_first_and_the_rest_are_counted(tmp_path) -> None:
    lines = await panel_lines(
        tmp_path,
        ("aaa", 7200, "stopped"),
        ("abc", 600, "stopped"),
        ("bbb", 100, "stopped"),
        ("yak", 60, "running"),  # stopped beating: stale
        ("zeta", 2, "running"),
        ("zulu", 1, "running"),
    )
    assert [line.split()[0] for line in lines[:3]] == ["zulu", "zeta", "yak"]
    assert "stale" in lines[2]
    assert lines[3:] == ["+3 more runner(s): `filehost-tui status` lists every one"]


async def test_hidden_running_runners_are_named_in_the_count(tmp_path) -> None:
    live = ((f"r{n}", n, "running") for n in range(1, 6))
    lines = await panel_lines(tmp_path, *live, ("old", 9000, "stopped"))
    assert [line.split()[0] for line in lines[:3]] == ["r1", "r2", "r3"]
    assert lines[3] == "+3 more runner(s), 2 running: `filehost-tui status` lists every one"


async def test_four_runners_fit_without_a_more_line(tmp_path) -> None:
    lines = await panel_lines(
        tmp_path,
        ("a", 9000, "stopped"),
        ("b", 5000, "stopped"),
        ("c", 1, "running"),
        ("d", 60, "running"),
    )
    assert [line.split()[0] for line in lines] == ["c", "d", "b", "a"]
