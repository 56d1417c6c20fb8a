"""How the app looks under NO_COLOR and in light and dark themes: words carry the meaning."""

from __future__ import annotations

import pytest

from filehost_tui.tui.app import FilehostApp
from tests.tui_support import make_session, seed_mid_upload, settle


@pytest.fixture
def session(tmp_path):
    session = make_session(tmp_path)
    seed_mid_upload(session, tmp_path / "files")
    yield session
    session.db.close()


async def test_no_color_is_respected_and_markers_are_words(session, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = FilehostApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.no_color
        assert str(app.query_one("#host-catbox .host-marker").render()) == "⏸ paused"
        assert str(app.query_one("#host-gofile .host-marker").render()).startswith("⟳ backoff")


async def test_palette_command_switches_between_dark_and_light(session):
    app = FilehostApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dark = app.current_theme.dark
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands["Toggle dark/light"].callback()
        await pilot.pause()
        assert app.current_theme.dark is not dark
