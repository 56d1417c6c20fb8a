"""10,000 uploads: the app opens with every row, the cursor moves, and uploads progressing and
finishing update cells in place — the table's Row objects, order, cursor and scroll stay put."""

from __future__ import annotations

import asyncio

from textual import events

from filehost_tui.engine.events import UploadProgress
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.messages import ProgressUpdated
from filehost_tui.tui.widgets.uploads_table import ADD_AT_ONCE
from tests.tui_support import add_many, eventually, make_session, settle

COUNT = 10_000


async def test_ten_thousand_rows_open_move_and_update_without_rebuilding(tmp_path):
    session = make_session(tmp_path)
    add_many(session, tmp_path / "files", COUNT)
    app = FilehostApp(session)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            table = app.main.table
            assert table.row_count == COUNT

            await pilot.press("down", "down", "down")
            assert table.cursor_row == 3
            await pilot.press("pagedown")
            assert table.cursor_row > 3
            table.move_to(400)  # upload 400 is row 399
            await pilot.pause()
            assert table.cursor_row == 399
            rows_before = dict(table.rows)
            order_before = [r.key for r in table.ordered_rows]
            scroll_before = table.scroll_y
            assert scroll_before > 0

            q = session.queue
            leases = {}
            for _ in range(3):  # uploads 1, 2, 3: above the cursor, so a rebuild would show
                claimed = q.claim("gofile", "test")
                assert claimed is not None
                leases[claimed.id] = claimed.lease
            q.progress(1, 500, leases[1])
            q.complete(2, "https://gofile.example/d/two", "two")
            q.cancel(3)
            app.request_read()  # the once-a-second read, then an engine progress event
            await settle(pilot)
            app.main.post_message(
                ProgressUpdated(UploadProgress(1, 1, "gofile", 600, 1000, 2048.0))
            )
            await settle(pilot)

            assert str(table.get_cell("1", "pct")) == "60%"
            assert str(table.get_cell("1", "speed")) == "2.0KiB/s"
            assert str(table.get_cell("2", "status")) == "completed"
            assert str(table.get_cell("2", "tail")) == "gofile.example/d/two"
            assert str(table.get_cell("3", "status")) == "cancelled"
            assert table.row_count == COUNT
            assert all(table.rows[key] is row for key, row in rows_before.items())
            assert [r.key for r in table.ordered_rows] == order_before
            assert table.cursor_row == 399 and table.selected_id() == 400
            assert table.scroll_y == scroll_before
    finally:
        session.db.close()


async def test_a_key_is_answered_while_ten_thousand_rows_are_still_being_added(tmp_path):
    session = make_session(tmp_path)
    add_many(session, tmp_path / "files", COUNT)
    app = FilehostApp(session)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            table = app.main.table
            rows_when_answered: list[int] = []  # rows in the table when "down" moved the cursor

            def cursor_moved(coordinate) -> None:
                if coordinate.row == 1 and not rows_when_answered:
                    rows_when_answered.append(table.row_count)

            app.watch(table, "cursor_coordinate", cursor_moved, init=False)
            while table.row_count == 0:  # the first read has not been applied yet
                await asyncio.sleep(0)
            assert table.row_count == ADD_AT_ONCE and table.adding_rows
            await pilot.press("down")
            await settle(pilot)
            assert rows_when_answered and rows_when_answered[0] < COUNT
            assert table.row_count == COUNT and not table.adding_rows
            assert table.shown_ids == list(range(1, COUNT + 1))  # slices keep queue order
            assert table.cursor_row == 1
    finally:
        session.db.close()


async def test_opening_and_closing_a_dialog_while_rows_arrive_does_not_stop_them(tmp_path):
    count = 20_000
    session = make_session(tmp_path, poll_interval=1.0)
    add_many(session, tmp_path / "files", count)
    app = FilehostApp(session)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            table = app.main.table
            while table.row_count == 0:  # the first slice is in, the rest are queued
                await asyncio.sleep(0)
            for _ in range(4):  # keys as the terminal driver posts them, while slices arrive
                app.post_message(events.Key("question_mark", "?"))
                await asyncio.sleep(0.15)
                app.post_message(events.Key("escape", None))
                await asyncio.sleep(0.15)
            # a deadline, not a pace: generous, as a loaded 2-core CI machine is several times slower
            await eventually(pilot, lambda: table.row_count == count, 120.0, "every row")
            assert table.shown_ids == list(range(1, count + 1))
    finally:
        session.db.close()
