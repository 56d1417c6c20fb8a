"""Engine progress reaches the uploads table at most once per interval: every change to a
DataTable repaints all its visible rows, so the event loop must not do that per engine event.

Counts, not seconds: the pacing clock is a fixed clock the tests move by hand."""

from __future__ import annotations

from filehost_tui.engine.events import UploadProgress
from filehost_tui.tui import format as fmt
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.messages import Live, ProgressUpdated
from filehost_tui.tui.progress_throttle import ProgressThrottle
from tests.tui_support import FixedClock, add_many, make_session, settle

TOTAL = 1000


def live(uploaded: int) -> Live:
    return Live(uploaded, TOTAL, 1024.0)


def progress(upload_id: int, uploaded: int) -> ProgressUpdated:
    return ProgressUpdated(UploadProgress(upload_id, upload_id, "gofile", uploaded, TOTAL, 2048.0))


def test_the_first_value_passes_then_the_newest_held_values_pass_once_per_interval():
    clock = FixedClock(100.0)
    pace = ProgressThrottle(1.0, clock)
    assert pace.offer(1, live(10)) == {1: live(10)}
    for n in range(2, 40):  # a burst per engine tick, all inside one interval
        assert pace.offer(1, live(10 * n)) == {}
        assert pace.offer(2, live(5 * n)) == {}
    clock.now += 1.0
    assert pace.offer(1, live(900)) == {1: live(900), 2: live(5 * 39)}
    assert pace.offer(2, live(200)) == {}


def test_a_fresh_snapshot_or_an_ended_upload_drops_what_is_held():
    clock = FixedClock(100.0)
    pace = ProgressThrottle(1.0, clock)
    pace.offer(1, live(10))
    pace.offer(1, live(20))
    pace.offer(2, live(30))
    pace.superseded()
    pace.offer(3, live(40))
    pace.forget(3)
    clock.now += 1.0
    assert pace.offer(4, live(50)) == {4: live(50)}


def test_a_clock_that_steps_back_does_not_hold_progress_back():
    clock = FixedClock(100.0)
    pace = ProgressThrottle(1.0, clock)
    pace.offer(1, live(10))
    clock.now -= 50.0
    assert pace.offer(1, live(20)) == {1: live(20)}


async def test_forty_progress_events_within_one_interval_change_the_table_once(tmp_path):
    pacing = FixedClock(500.0)
    session = make_session(tmp_path, ui_clock=pacing, progress_interval=1.0)
    add_many(session, tmp_path / "files", 50)
    first = session.queue.claim("gofile", "test")
    second = session.queue.claim("gofile", "test")
    assert first is not None and second is not None
    a, b = first.id, second.id
    app = FilehostApp(session)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            app.request_read()
            await settle(pilot)
            table = app.main.table
            applied: list[int] = []
            original = table.apply_progress

            def counting(upload_id: int, value: Live) -> None:
                applied.append(upload_id)
                original(upload_id, value)

            table.apply_progress = counting  # type: ignore[method-assign]
            for n in range(1, 21):  # engine ticks: one event per upload each, all in one interval
                app.main.post_message(progress(a, 10 * n))
                app.main.post_message(progress(b, 5 * n))
                await pilot.pause()
            assert applied == [a]  # the first event, at once; the other 39 are held
            assert str(table.get_cell(str(a), "pct")) == "1%"
            assert str(table.get_cell(str(b), "pct")) == "0%"

            pacing.now += 1.0
            app.main.post_message(progress(a, 500))
            await pilot.pause()
            assert sorted(applied) == sorted([a, a, b])  # one more pass, with b's newest value
            assert str(table.get_cell(str(a), "pct")) == "50%"
            assert str(table.get_cell(str(b), "pct")) == "10%"
            assert str(table.get_cell(str(a), "speed")) == "2.0KiB/s"
    finally:
        session.db.close()


async def test_held_progress_never_overwrites_the_newer_database_read(tmp_path):
    pacing = FixedClock(500.0)
    session = make_session(tmp_path, ui_clock=pacing, progress_interval=1.0)
    add_many(session, tmp_path / "files", 5)
    first = session.queue.claim("gofile", "test")
    second = session.queue.claim("gofile", "test")
    assert first is not None and second is not None
    a, b = first.id, second.id
    app = FilehostApp(session)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            app.request_read()
            await settle(pilot)
            app.main.post_message(progress(a, 100))
            await pilot.pause()
            app.main.post_message(progress(b, 300))  # held: the interval has not passed
            await pilot.pause()
            session.queue.progress(b, 700, second.lease)
            app.request_read()
            await settle(pilot)
            from_read = fmt.percent(700, app.main.table.known[b].total)
            assert str(app.main.table.get_cell(str(b), "pct")) == from_read
            pacing.now += 1.0
            app.main.post_message(progress(a, 200))
            await pilot.pause()
            assert str(app.main.table.get_cell(str(a), "pct")) == "20%"
            assert str(app.main.table.get_cell(str(b), "pct")) == from_read
    finally:
        session.db.close()
