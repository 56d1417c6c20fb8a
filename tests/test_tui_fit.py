"""The screen at 80×24 and wider (docs/architecture.md, 'Fitting the screen'): the item name takes
the free width, every cut text ends in `…`, links keep their end, the footer keeps `?` and `q`,
and ETA columns show time left. Snapshots from fixed data and a fixed clock, like
test_tui_snapshots.py; Pilot tests for resizing.

Update the snapshots after an intended change with:
pytest tests/test_tui_fit.py --snapshot-update
"""

from __future__ import annotations

import io
import time

import pytest
from rich.console import Console

from filehost_tui.engine.models import FileHostUpload, Item
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.fit import Tail, head, keep_end
from filehost_tui.tui.messages import EngineReady
from filehost_tui.tui.widgets.uploads_table import UploadsTable
from tests.test_tui_snapshots import mid_upload
from tests.tui_support import make_session, seed_mid_upload, settle

LONG_NAME = "Holiday gallery 2024 - Lisbon, Porto and the Algarve coast.zip"
LONG_URL = "https://files.catbox.example/u/2024/08/holiday/f/abc123"


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    session = make_session(tmp_path)
    ids = seed_mid_upload(session, tmp_path / "files")
    Item.update(name=LONG_NAME).where(Item.name == "holiday-2024.zip").execute()
    FileHostUpload.update(download_url=LONG_URL).where(FileHostUpload.id == ids["done"]).execute()
    app = FilehostApp(session)
    app.seeded_ids = ids
    yield app
    session.db.close()
    monkeypatch.undo()
    time.tzset()


def screen_lines(app) -> list[str]:
    """The screen as plain text, one string per line (what a user reads)."""
    console = Console(
        width=app.size.width, height=app.size.height, file=io.StringIO(), record=True,
        force_terminal=True, legacy_windows=False, safe_box=False,
    )  # fmt: skip
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text().splitlines()


def line_of(app, upload_id: int) -> str:
    table = app.query_one(UploadsTable)
    row = table.get_row_index(str(upload_id))
    lines = screen_lines(app)
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("item "))
    return lines[header + 1 + row]


def test_fit_80x24_with_eta_columns_and_a_long_name_cut(app, snap_compare):
    assert snap_compare(app, terminal_size=(80, 24), run_before=mid_upload)


def test_fit_160x48_with_eta_columns_and_a_long_name_cut(app, snap_compare):
    assert snap_compare(app, terminal_size=(160, 48), run_before=mid_upload)


async def test_at_80_columns_the_name_takes_the_free_width_and_cuts_end_in_an_ellipsis(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await mid_upload(pilot)
        table = app.query_one(UploadsTable)
        uploading = line_of(app, app.seeded_ids["uploading"])
        done = line_of(app, app.seeded_ids["done"])
        retrying = line_of(app, app.seeded_ids["retrying"])
        widths = {str(k.value): c.width for k, c in table.columns.items()}

    assert "size" not in widths and "retries" not in widths  # in details; the name needs room
    assert widths["item"] >= 15 and widths["tail"] >= 12  # 11 before the name took the free width
    assert LONG_NAME[: widths["item"] - 1] + "…" in uploading
    assert "…ay/f/abc123" in done  # the link's end: the file id tells two links apart
    assert "server: HTT" in retrying and "…" in retrying
    assert "2.4MiB/s" in uploading and "2m" in uploading  # speed and ETA of the row


async def test_resizing_lays_the_columns_out_again_and_keeps_the_cursor(app):
    async with app.run_test(size=(160, 48)) as pilot:
        await mid_upload(pilot)
        table = app.query_one(UploadsTable)
        table.move_to(app.seeded_ids["retrying"])
        wide = {str(k.value): c.width for k, c in table.columns.items()}

        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        narrow = {str(k.value): c.width for k, c in table.columns.items()}
        selected_narrow = table.selected_id()

        await pilot.resize_terminal(160, 48)
        await settle(pilot)
        again = {str(k.value): c.width for k, c in table.columns.items()}
        selected_wide = table.selected_id()
        full_name = line_of(app, app.seeded_ids["uploading"])

    assert {"size", "retries"} <= set(wide) and not {"size", "retries"} & set(narrow)
    assert again == wide and narrow["item"] < wide["item"]
    assert selected_narrow == selected_wide == app.seeded_ids["retrying"]
    assert LONG_NAME[: wide["item"] - 1] + "…" in full_name


@pytest.mark.parametrize("width", [80, 70, 60])
async def test_the_footer_keeps_help_and_quit_and_leaves_nothing_after_shrinking(app, width):
    """Before, the palette key's unpainted last cell showed a key cut under it: "palettei"."""
    async with app.run_test(size=(120, 30)) as pilot:
        await mid_upload(pilot)
        await pilot.resize_terminal(width, 24)
        await settle(pilot)
        footer = screen_lines(app)[-1]

    assert "? help" in footer and "q quit" in footer
    assert footer.rstrip().endswith("^p palette")


async def test_a_refused_start_says_what_to_do_first_and_cuts_the_rest_with_an_ellipsis(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.post_message(EngineReady(error="cannot write /home/someone/.local/share/x: " * 3))
        await settle(pilot)
        header = screen_lines(app)[0]

    assert "restart filehost-tui to upload here" in header
    assert header.rstrip().endswith("…")


async def test_help_lines_fit_80_columns_and_a_narrower_screen_cuts_them_with_an_ellipsis(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        wide = screen_lines(app)
        await pilot.resize_terminal(60, 24)
        await settle(pilot)
        narrow = screen_lines(app)

    details = next(line for line in wide if "Details: full error" in line)
    assert "Details: full error, link, times, attempts" in details and "…" not in details
    details = next(line for line in narrow if "Details: full" in line)
    assert "…" in details and "attempts" not in details


def render(renderable, width: int) -> str:
    """One line of a cell, drawn the way DataTable draws it: its width, no wrapping."""
    console = Console(width=80, file=io.StringIO())
    options = console.options.update_width(width).update(no_wrap=True, height=1)
    (line,) = console.render_lines(renderable, options, pad=False)
    return "".join(segment.text for segment in line)


def test_cut_texts_end_in_an_ellipsis_and_links_keep_their_end():
    assert keep_end("rapidgator.net/f/abc123", 10) == "…/f/abc123"
    assert keep_end("short", 10) == "short"
    assert keep_end("日本語のファイル", 7) == "…ァイル"  # wide characters count two cells
    assert render(Tail("rapidgator.net/f/abc123"), 10) == "…/f/abc123"
    assert render(head("Holiday gallery 2024.zip"), 12) == "Holiday gal…"
    assert render(head("fits"), 12) == "fits"
