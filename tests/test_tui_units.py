"""The TUI's plain parts: figures, the filter, database summaries, styles lookup, lazy imports."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from filehost_tui.tui import format as fmt
from filehost_tui.tui.queue_view import UploadRow, changed_rows, host_summaries, load_window
from filehost_tui.tui.resources import styles_dir
from filehost_tui.tui.row_filter import RowFilter
from filehost_tui.tui.widgets.hosts_panel import marker_text
from filehost_tui.tui.widgets.uploads_table import render_cells
from filehost_tui.units import human_size, human_speed
from tests.engine_harness import REPO
from tests.tui_support import NOW, make_session, seed_mid_upload


@pytest.fixture
def seeded(tmp_path):
    session = make_session(tmp_path)
    ids = seed_mid_upload(session, tmp_path / "files")
    yield session, ids
    session.db.close()


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0B"),
        (999, "999B"),
        (1000, "1.0KiB"),
        (1536, "1.5KiB"),
        (10.2 * 1024**2, "10MiB"),
        (9.97 * 1024**2, "10MiB"),
        (700 * 1024**2, "700MiB"),
        (1023.9 * 1024**2, "1.0GiB"),
        (3 * 1024**3, "3.0GiB"),
    ],
)
def test_sizes_are_binary_units_in_six_columns(n, text):
    assert fmt.size(n) == human_size(n) == text and len(text) <= 6


def test_idle_speed_is_blank_and_countdown_never_shows_zero():
    assert fmt.speed(0) == ""
    assert fmt.speed(2.4 * 1024**2) == "2.4MiB/s" == human_speed(2.4 * 1024**2)
    assert len(fmt.speed(999 * 1024**2)) == 8
    assert fmt.countdown(0.2) == "1s"
    assert fmt.countdown(125) == "3m"


def row(**changes) -> UploadRow:
    base = dict(
        id=1, item_id=1, item="Holiday Photos", host="gofile", status="pending", uploaded=0,
        total=100, retries=0, error_kind=None, error_message=None, url=None, next_attempt_ts=0.0,
    )  # fmt: skip
    return UploadRow(**{**base, **changes})


def test_filter_words_host_and_status_prefixes_all_must_match():
    assert RowFilter("holiday").matches(row())
    assert RowFilter("host:go status:pend").matches(row())
    assert not RowFilter("host:pixel").matches(row())
    assert not RowFilter("holiday status:failed").matches(row())
    assert not RowFilter(hide_finished=True).matches(row(status="completed"))
    assert RowFilter("pending").matches(row())


def test_a_retrying_row_counts_down_and_shows_its_error():
    cells = render_cells(
        row(retries=2, next_attempt_ts=NOW + 42, error_kind="server", error_message="HTTP 502\nx"),
        None,
        NOW,
    )
    assert str(cells[2]) == "retry 42s"
    assert cells[7] == "2"
    assert str(cells[8]) == "server: HTTP 502"


def test_changed_rows_returns_only_rows_written_since_the_last_read(seeded):
    """The once-a-second read asks for rows above the last change number, not for open rows."""
    session, ids = seeded
    window, seq = load_window(1000)
    assert {r.id for r in window} == set(ids.values())
    session.queue.claim("pixeldrain", "t")
    session.queue.complete(ids["pending"], "https://px.example/n", None)
    got, new_seq = changed_rows(seq)
    assert [r.id for r in got] == [ids["pending"]]
    assert got[0].status == "completed"
    assert changed_rows(new_seq) == ([], new_seq)


def test_host_summaries_count_statuses_and_notice_backoff(seeded):
    session, _ = seeded
    hosts = host_summaries(NOW)
    gofile = hosts["gofile"]
    assert (gofile.active, gofile.queued, gofile.done, gofile.failed) == (1, 1, 0, 0)
    assert gofile.active_uploaded == 301 * 1024**2
    assert gofile.backoff_until == NOW + 20.0
    assert marker_text(gofile, NOW) == "⟳ backoff 20s"
    assert marker_text(hosts["catbox"], NOW) == "⏸ paused"
    assert marker_text(hosts["pixeldrain"], NOW) == ""


def test_styles_are_found_from_a_source_checkout():
    assert (styles_dir() / "app.tcss").is_file()


def run_python(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_cli_and_tui_launch_import_no_textual_until_the_tui_opens():
    code = (
        "import sys, filehost_tui.cli.main, filehost_tui.tui.launch, filehost_tui.engine.engine;"
        "print('textual' in sys.modules)"
    )
    assert run_python(code) == "False"


def test_in_process_host_bars_use_the_engines_live_bytes_not_the_lagging_database():
    from filehost_tui.engine.engine import ActiveTransfer, HostState
    from filehost_tui.tui.app import _merge_states
    from filehost_tui.tui.queue_view import HostSummary

    db_view = {"catbox": HostSummary("catbox", active=2, active_uploaded=10, active_total=300)}
    states = {"catbox": HostState("catbox", 2, None, False, 5.0)}
    active = [
        ActiveTransfer(1, 1, "catbox", "uploading", 90, 100, 5.0),
        ActiveTransfer(2, 2, "catbox", "uploading", 150, 200, 5.0),
        ActiveTransfer(3, 3, "0x0", "uploading", 1, 2, 5.0),
    ]
    merged = _merge_states(db_view, states, active)["catbox"]
    assert (merged.active_uploaded, merged.active_total) == (240, 300)
    assert merged.active == 2


def test_details_say_when_the_archive_was_deleted(tmp_path):
    from filehost_tui.engine.attempts import Attempts
    from filehost_tui.tui.screens.details import UploadDetails

    kept = tmp_path / "1-gallery-abc.zip"
    kept.write_bytes(b"PK")
    base = dict(
        id=1, item="gallery", path="/g", kind="folder", host="catbox", status="completed",
        uploaded=2, total=2, attempts=Attempts(0, 1, 0), error_kind=None, error_message=None,
        url="http://127.0.0.1/x", file_id="x", created_ts=NOW, started_ts=NOW,
        finished_ts=NOW, next_attempt_ts=0.0,
    )  # fmt: skip
    present = dict(UploadDetails(**base, archive=str(kept)).lines(NOW))
    gone = dict(UploadDetails(**base, archive=str(tmp_path / "gone.zip")).lines(NOW))
    assert present["archive"] == str(kept)
    assert gone["archive"] == f"{tmp_path / 'gone.zip'} (deleted)"
