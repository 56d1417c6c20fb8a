"""The TUI holds a window, not the history: unfinished and failed uploads plus the latest finished
ones; older history comes by paging up past the top or through the `/` filter (indexed queries in a
thread), and the once-a-second read brings only rows written since the last one."""

from __future__ import annotations

import pytest

from filehost_tui.config import Config, TuiSettings, load_config
from filehost_tui.engine.models import FileHostUpload, Item
from filehost_tui.errors import UserError
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.messages import QueueRead
from tests.tui_support import NOW, eventually, make_session, settle

WINDOW = 100
HISTORY = 3000


def fill_history(session) -> dict[str, list[int]]:
    """3,000 finished uploads (every 10th cancelled), then 5 pending ones, queued a minute apart."""
    with session.db.atomic():
        for start in range(0, HISTORY + 5, 500):
            count = min(500, HISTORY + 5 - start)
            Item.insert_many(
                [
                    dict(
                        path=f"/srv/f{i}",
                        name=f"file-{i:05d}.bin",
                        kind="file",
                        total_size=10,
                        file_count=1,
                        fingerprint="x",
                        created_ts=NOW - 60 * (HISTORY - i),
                    )  # fmt: skip
                    for i in range(start, start + count)
                ]
            ).execute()
        rows = []
        for item_id in range(1, HISTORY + 6):
            i = item_id - 1
            status = "pending" if i >= HISTORY else "cancelled" if i % 10 == 0 else "completed"
            rows.append(
                dict(
                    item=item_id,
                    host_name="gofile",
                    status=status,
                    total_bytes=10,
                    created_ts=NOW - 60 * (HISTORY - i),
                    finished_ts=None if status == "pending" else NOW - 60 * (HISTORY - i),
                    download_url=f"https://g.example/{i}" if status == "completed" else None,
                )  # fmt: skip
            )
        for start in range(0, len(rows), 500):
            FileHostUpload.insert_many(rows[start : start + 500]).execute()
    ids = list(range(1, HISTORY + 6))
    return {"finished": ids[:HISTORY], "pending": ids[HISTORY:]}


def window_session(tmp_path):
    session = make_session(tmp_path, config=Config(tui=TuiSettings(history_rows=WINDOW)))
    return session, fill_history(session)


async def test_the_table_holds_unfinished_uploads_and_the_latest_finished_only(tmp_path):
    session, ids = window_session(tmp_path)
    app = FilehostApp(session)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            expected = ids["finished"][-WINDOW:] + ids["pending"]
            assert app.main.table.shown_ids == expected
            assert len(app.main.table.known) == WINDOW + 5
            gofile = app.main.summaries["gofile"]  # counts cover the whole history
            assert (gofile.done, gofile.queued) == (HISTORY - HISTORY // 10, 5)
    finally:
        session.db.close()


async def test_up_on_the_top_row_brings_the_next_older_page_and_keeps_the_cursor(tmp_path):
    session, ids = window_session(tmp_path)
    app = FilehostApp(session)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            top = app.main.table.shown_ids[0]
            app.main.table.move_to(top)
            await pilot.press("up")
            await eventually(
                pilot, lambda: app.main.table.row_count == 2 * WINDOW + 5, 30, "a page"
            )
            await settle(pilot)
            assert app.main.table.shown_ids == ids["finished"][-2 * WINDOW :] + ids["pending"]
            assert app.main.table.selected_id() == top
            await pilot.press("pageup")  # not on the top row: just moves
            await settle(pilot)
            assert app.main.table.row_count == 2 * WINDOW + 5
    finally:
        session.db.close()


async def test_the_filter_reaches_history_outside_the_window_and_escape_lets_it_go(tmp_path):
    session, ids = window_session(tmp_path)
    app = FilehostApp(session)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("slash", *"file-0004")  # items 40-49: long out of the window
            wanted = ids["finished"][40:50]
            await eventually(pilot, lambda: app.main.table.shown_ids == wanted, 30, "names found")

            await pilot.press("escape")
            await settle(pilot)
            assert app.main.table.shown_ids == ids["finished"][-WINDOW:] + ids["pending"]

            await pilot.press("slash", *"status:canc since:1d")
            day_ago = NOW - 86400
            matching = [
                i
                for i in ids["finished"]
                if (i - 1) % 10 == 0 and NOW - 60 * (HISTORY - i + 1) >= day_ago
            ]
            assert len(matching) == 144
            wanted = matching[-WINDOW:]  # a search brings at most a window's worth, newest first
            await eventually(
                pilot, lambda: app.main.table.shown_ids == wanted, 30, "status and since"
            )
            await settle(pilot)
            assert app.main.table.shown_ids == wanted and wanted[0] < ids["finished"][-WINDOW]
    finally:
        session.db.close()


async def test_the_poll_reads_only_rows_written_since_the_last_read(tmp_path):
    session, ids = window_session(tmp_path)
    reads: list[QueueRead] = []
    app = FilehostApp(session)
    try:
        async with app.run_test(
            size=(100, 30),
            message_hook=lambda m: reads.append(m) if isinstance(m, QueueRead) else 0,
        ) as pilot:
            await settle(pilot)
            app.request_read()
            await settle(pilot)
            assert reads[-1].rows == []

            old = ids["finished"][0]  # cancelled long ago, far outside the window
            session.queue.retry(old)
            app.request_read()
            await settle(pilot)
            assert [r.id for r in reads[-1].rows] == [old]
            assert old in app.main.table.shown_ids and app.main.table.known[old].status == "pending"
    finally:
        session.db.close()


def test_the_window_size_is_read_from_config_and_checked(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[tui]\nhistory_rows = 50\n")
    assert load_config(config).tui.history_rows == 50
    config.write_text("[tui]\nhistory_rows = 0\n")
    with pytest.raises(UserError, match=r"config.toml:2: tui.history_rows must be 1 or more"):
        load_config(config)
