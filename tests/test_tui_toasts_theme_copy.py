"""Small things a user trips over: the theme is kept between runs (config.toml), toasts sit on the
title line instead of over the table's speed and link columns, and `y` says the link was *sent* to
the terminal's clipboard (OSC 52 may be dropped) while showing the link."""

from __future__ import annotations

import pytest
from textual.widgets._toast import Toast

from filehost_tui.config import load_config, save_setting
from filehost_tui.errors import UserError
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.widgets.uploads_table import UploadsTable
from tests.tui_support import make_session, seed_mid_upload, settle

LINK = "https://files.catbox.example/abc123.zip"


@pytest.fixture
def seeded(tmp_path):
    session = make_session(tmp_path)
    ids = seed_mid_upload(session, tmp_path / "files")
    yield session, ids
    session.db.close()


def shown_toasts(app) -> list[Toast]:
    return [t for t in app.screen.query(Toast) if t.parent.display and t.region.height]


async def test_a_theme_picked_in_the_app_is_there_on_the_next_start(tmp_path) -> None:
    session = make_session(tmp_path)
    app = FilehostApp(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        before = app.theme
        await pilot.press("ctrl+p", *"Toggle dark")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        picked = app.theme
        assert picked != before
    session.db.close()
    config = load_config(session.paths.config_file)
    assert config.tui.theme == picked
    again = make_session(tmp_path, config=config)
    app = FilehostApp(again)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == picked
    again.db.close()


async def test_an_unknown_saved_theme_warns_and_keeps_the_default(tmp_path) -> None:
    session = make_session(tmp_path)
    save_setting(session.paths.config_file, "tui", "theme", "no-such-theme")
    session.config = load_config(session.paths.config_file)
    app = FilehostApp(session)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        assert any("no-such-theme" in str(t.render()) for t in app.screen.query(Toast))
    session.db.close()


def test_saving_the_theme_keeps_the_rest_of_config_toml(tmp_path) -> None:
    path = tmp_path / "config.toml"
    text = '# mine\n[tui] # the app\nhistory_rows = 5\ntheme = "nord"\n\n[limits]\nmax_concurrent = 2\n'
    path.write_text(text)
    save_setting(path, "tui", "theme", "gruvbox")
    assert path.read_text() == text.replace('"nord"', '"gruvbox"')
    config = load_config(path)
    assert config.tui.theme == "gruvbox" and config.tui.history_rows == 5
    assert config.limits.max_concurrent == 2
    fresh = tmp_path / "fresh.toml"
    save_setting(fresh, "tui", "theme", "nord")
    assert load_config(fresh).tui.theme == "nord"


def test_a_config_layout_that_cannot_be_edited_is_refused_and_left_alone(tmp_path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("tui = { history_rows = 5 }\n")
    with pytest.raises(UserError, match="edit the file by hand"):
        save_setting(path, "tui", "theme", "nord")
    assert path.read_text() == "tui = { history_rows = 5 }\n"


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_toasts_sit_on_the_title_line_and_hide_no_table_column(seeded, size) -> None:
    session, ids = seeded
    app = FilehostApp(session)
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        app.main.table.move_to(ids["failed"])
        await pilot.press("r")  # an action's result: a toast
        await settle(pilot)
        app.main.table.move_to(ids["done"])
        await pilot.press("y")  # the longest toast: the whole link
        await pilot.pause()
        toasts = shown_toasts(app)
        assert len(toasts) == 1, "only the newest toast shows"
        table = app.screen.query_one(UploadsTable).region
        for toast in toasts:
            assert toast.region.y == 0
            assert not toast.region.overlaps(table), (toast.region, table)


async def test_y_says_the_link_was_sent_to_the_terminal_clipboard_and_shows_it(seeded) -> None:
    session, ids = seeded
    app = FilehostApp(session)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        app.main.table.move_to(ids["done"])
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == LINK
        (toast,) = shown_toasts(app)
        text = str(toast.render())
        assert "sent to the terminal's clipboard" in text and LINK in text
        assert "copied" not in text
        await pilot.press("enter", "y")  # the details dialog says the same
        await pilot.pause()
        (toast,) = shown_toasts(app)
        assert "sent to the terminal's clipboard" in str(toast.render())


async def test_a_welcome_note_shows_at_start(tmp_path) -> None:
    """The demo's note on which keys to try (`demo` passes it to open_tui)."""
    from filehost_tui.cli.demo_command import TRY_KEYS

    session = make_session(tmp_path, welcome=TRY_KEYS)
    app = FilehostApp(session)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        (toast,) = shown_toasts(app)
        assert "Try p on concert.mkv" in str(toast.render())
        assert not toast.region.overlaps(app.screen.query_one(UploadsTable).region)
    session.db.close()
