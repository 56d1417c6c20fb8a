"""The sparkline's span fits the history: seconds while it is short, up to ten minutes, with buckets
wider than the 5 s sampling so steady traffic never shows a dip to zero."""

from __future__ import annotations

import sqlite3

import pytest
from textual.widgets import Label, Sparkline

from filehost_tui.engine.engine import SAMPLE_EVERY_S
from filehost_tui.tui.app import FilehostApp
from filehost_tui.tui.widgets.bandwidth import Span, sparkline_span
from tests.tui_support import NOW, make_session, seed_mid_upload, settle

MiB = 1024 * 1024


@pytest.mark.parametrize(
    ("first", "span"),
    [
        (None, Span(30, 4)),  # no history yet
        (NOW - 5, Span(30, 4)),
        (NOW - 30, Span(30, 4)),
        (NOW - 30.5, Span(60, 8)),
        (NOW - 100, Span(120, 16)),
        (NOW - 299, Span(300, 40)),
        (NOW - 301, Span(600, 60)),
        (NOW - 600, Span(600, 60)),
    ],
)
def test_span_is_the_shortest_that_holds_the_history(first, span):
    assert sparkline_span(first, NOW) == span


def test_every_bucket_is_wider_than_the_sampling_interval():
    for age in range(0, 601, 7):
        span = sparkline_span(NOW - age, NOW)
        assert span.seconds / span.buckets > SAMPLE_EVERY_S
        assert span.seconds >= age


def test_labels_say_seconds_below_a_minute():
    assert [Span(s, 1).label for s in (30, 60, 120, 600)] == ["30s", "1m", "2m", "10m"]


def test_first_sample_since_reads_the_oldest_recent_sample_through_the_index(metrics, clock, db):
    metrics.record_bandwidth_samples({"alpha": 1.0}, clock.now - 900)
    metrics.record_bandwidth_samples({"alpha": 1.0, "beta": 2.0}, clock.now - 40)
    metrics.record_bandwidth_samples({"alpha": 1.0}, clock.now - 5)
    assert metrics.first_sample_since(clock.now - 600) == clock.now - 40
    assert metrics.first_sample_since(clock.now) is None
    raw = sqlite3.connect(db.database)
    try:
        plan = " ".join(
            row[3]
            for row in raw.execute(
                "EXPLAIN QUERY PLAN SELECT MIN(ts) FROM bandwidth_samples WHERE ts >= 1"
            )
        )
    finally:
        raw.close()
    assert "INDEX" in plan and "SCAN bandwidth_samples" not in plan.replace("USING", "")


async def test_a_40_second_history_fills_the_sparkline_over_one_minute(tmp_path):
    session = make_session(tmp_path)
    for ts in range(40, 0, -5):  # samples from 40 s ago to 5 s ago
        session.metrics.record_bandwidth_samples({"catbox": 2 * MiB}, NOW - ts)
    app = FilehostApp(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        panel = app.screen.query_one("#bandwidth")
        assert str(panel.query_one("#bw-title", Label).render()) == "speed 1m"
        data = panel.query_one(Sparkline).data
        assert len(data) == 8
        busy = [v > 0 for v in data]
        assert busy == [False, False] + [True] * 6  # 7.5 s buckets; no traffic in the first 20 s
    session.db.close()


async def test_a_ten_minute_history_keeps_the_ten_minute_span(tmp_path):
    session = make_session(tmp_path)
    seed_mid_upload(session, tmp_path / "files")
    app = FilehostApp(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        panel = app.screen.query_one("#bandwidth")
        assert str(panel.query_one("#bw-title", Label).render()) == "speed 10m"
        assert len(panel.query_one(Sparkline).data) == 60
    session.db.close()
