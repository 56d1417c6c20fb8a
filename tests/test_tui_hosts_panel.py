"""The hosts panel with more hosts than fit: trouble first, a "+N more" line, and the hosts screen
(H) that the keys scroll to every host. Disabled hosts say so on their line, their rows and in the
details. Real SQLite rows, the real app under Pilot, SVG snapshots at 80×24 and 160×48."""

from __future__ import annotations

import time

import pytest

from filehost_tui.config import Config, HostSettings
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.queue_view import HostSummary, host_summaries
from filehost_tui.tui.screens.details import DetailsScreen
from filehost_tui.tui.screens.hosts import HostsScreen
from filehost_tui.tui.widgets.hosts_panel import (
    HostLine,
    HostsPanel,
    in_order,
    lines_for_height,
    more_text,
)
from tests.hosts_seed import EIGHT_HOSTS, seed_eight_hosts
from tests.test_queue_reads import assert_no_scan, hot_statements
from tests.tui_support import NOW, make_file, make_session, settle

ALL_ON = Config()
KATFILE_OFF = Config(hosts={"katfile": HostSettings(enabled=False)})


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def eight_host_app(tmp_path, config: Config = ALL_ON) -> FilehostApp:
    session = make_session(tmp_path, hosts=EIGHT_HOSTS, config=config)
    app = FilehostApp(session)
    app.seeded_ids = seed_eight_hosts(session, tmp_path / "files")
    return app


def panel_lines(app) -> list[HostLine]:
    """The main panel's host lines on screen, top to bottom."""
    lines = [line for line in app.main.query_one("#hosts", HostsPanel).query(HostLine)]
    return sorted((line for line in lines if line.display), key=lambda line: line.region.y)


def fully_on_screen(widget, area) -> bool:
    return widget.region.height > 0 and area.contains_region(widget.region)


async def test_a_failing_host_shows_first_and_every_host_is_one_key_away(tmp_path):
    app = eight_host_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = panel_lines(app)
        assert [line.host for line in lines] == ["rapidgator", "gofile", "katfile", "nitroflare"]
        first = lines[0]
        assert fully_on_screen(first, app.screen.region)
        assert str(first.query_one(".host-marker").render()) == "✗ auth failing"
        more = app.main.query_one(".hosts-more")
        assert more.display and fully_on_screen(more, app.screen.region)
        assert str(more.render()) == "+4 more host(s): press H to see every host"

        await pilot.press("H")
        await settle(pilot)
        assert isinstance(app.screen, HostsScreen)
        scroll = app.screen.query_one("#hosts-scroll")
        assert scroll.has_focus
        listed = sorted(app.screen.query(HostLine), key=lambda line: line.region.y)
        assert [line.host for line in listed][:2] == ["rapidgator", "gofile"]
        assert sorted(line.host for line in listed) == sorted(EIGHT_HOSTS)
        assert all(fully_on_screen(line, scroll.region) for line in listed)

        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.main


async def test_with_many_hosts_the_keys_scroll_the_hosts_screen_to_every_one(tmp_path):
    """More hosts than the hosts screen has rows: down, one key at a time, reaches each."""
    hosts = tuple(f"host{n:02d}" for n in range(30))
    session = make_session(tmp_path, hosts=hosts)
    for n, host in enumerate(hosts):
        session.queue.add([make_file(tmp_path / "files", f"f{n}.bin", 1000)], [host])
    app = FilehostApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert len(panel_lines(app)) == lines_for_height(24) - 1
        await pilot.press("H")
        await settle(pilot)
        scroll = app.screen.query_one("#hosts-scroll")
        lines = list(app.screen.query(HostLine))
        seen = {line.host for line in lines if fully_on_screen(line, scroll.region)}
        assert len(seen) < len(hosts)  # the list does not fit: only the keys reach the rest
        for _ in range(len(hosts)):
            await pilot.press("down")
            await settle(pilot)
            seen |= {line.host for line in lines if fully_on_screen(line, scroll.region)}
        assert seen == set(hosts)


async def test_clicking_the_more_line_opens_every_host(tmp_path):
    app = eight_host_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.click(".hosts-more")
        await settle(pilot)
        assert isinstance(app.screen, HostsScreen)


async def test_a_taller_screen_shows_every_host_and_a_smaller_one_says_how_many_more(tmp_path):
    app = eight_host_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert len(panel_lines(app)) == 8
        assert not app.main.query_one(".hosts-more").display
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert [line.host for line in panel_lines(app)][0] == "rapidgator"
        assert len(panel_lines(app)) == 4 and app.main.query_one(".hosts-more").display


async def test_an_idle_host_reads_idle_instead_of_a_bar(tmp_path, monkeypatch):
    """Under NO_COLOR a bar at 0% is drawn as full as one at 100%: idle hosts say `idle`."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = eight_host_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        for line in panel_lines(app):
            idle = line.query_one(".host-idle")
            bar = line.query_one(".host-bar")
            busy = line.host == "gofile"
            assert (bar.display, idle.display) == (busy, not busy), line.host
            assert str(idle.render()) == "idle"


async def test_a_disabled_host_says_so_on_its_line_its_rows_and_in_their_details(tmp_path):
    app = eight_host_app(tmp_path, KATFILE_OFF)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = panel_lines(app)
        assert lines[0].host == "katfile"  # disabled with work waiting: trouble, on top
        assert str(lines[0].query_one(".host-marker").render()) == "⊘ disabled"
        table = app.main.table
        row = table.get_row(str(app.seeded_ids["pending"]))
        assert (str(row[2]), str(row[-1])) == ("waiting", "host disabled")
        assert str(table.get_row(str(app.seeded_ids["queued"]))[2]) == "pending"

        table.move_to(app.seeded_ids["pending"])
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailsScreen)
        status = str(app.screen.query_one(".detail-status").render())
        assert status.split() == ["status", "waiting:", "host", "disabled"]
        to_start = " ".join(str(app.screen.query_one(".detail-to-start").render()).split())
        config_file = app.session.paths.config_file
        assert to_start == (
            f"to start katfile is disabled: set enabled = true under [hosts.katfile] in "
            f"{config_file}, then restart the runner or the TUI"
        )

        await pilot.press("escape", "H")
        await settle(pilot)
        hint = str(app.screen.query_one("#hosts-hint").render())
        assert "enabled = true under [hosts.katfile]" in " ".join(hint.split())


def test_trouble_comes_first_and_the_more_line_counts_hidden_trouble():
    quiet = HostSummary("alpha", done=3)
    busy = HostSummary("beta", active=1, active_total=10)
    waiting = HostSummary("gamma", queued=2)
    backoff = HostSummary("delta", queued=1, backoff_until=NOW + 30)
    off_idle = HostSummary("epsilon", done=1, disabled=True)  # nothing waits: no trouble
    off_waiting = HostSummary("zeta", queued=1, disabled=True)
    ordered = in_order([quiet, busy, waiting, backoff, off_idle, off_waiting], NOW)
    assert [s.host for s in ordered] == ["delta", "zeta", "beta", "gamma", "alpha", "epsilon"]
    assert more_text([off_waiting, quiet], NOW) == (
        "+2 more host(s), 1 in trouble: press H to see every host"
    )
    assert [lines_for_height(h) for h in (12, 24, 48, 200)] == [2, 5, 11, 12]


def test_the_hosts_panels_read_searches_indexes(tmp_path):
    """host_summaries runs every second: none of its statements may walk the uploads table."""
    assert_no_scan(hot_statements(tmp_path, lambda db: host_summaries(1_500.0, {"beta"})))


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_main_screen_with_eight_hosts_one_failing(tmp_path, utc, snap_compare, size):
    assert snap_compare(eight_host_app(tmp_path), terminal_size=size, run_before=settle)


def test_snapshot_hosts_screen_at_80x24(tmp_path, utc, snap_compare):
    async def open_hosts(pilot):
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)

    assert snap_compare(eight_host_app(tmp_path), terminal_size=(80, 24), run_before=open_hosts)
