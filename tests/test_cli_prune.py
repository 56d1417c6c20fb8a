"""`prune --finished-before AGE [--dry-run]`: old completed and cancelled uploads go, with items
left without uploads; unfinished and failed uploads, statistics and counts stay true."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from filehost_tui.cli.main import main
from filehost_tui.engine.database import open_database
from filehost_tui.engine.metrics_store import SAMPLE_RETENTION_S, MetricsStore
from filehost_tui.engine.models import BandwidthSample, FileHostUpload, Item, UploadMetric
from filehost_tui.engine.queue_reads import QueueReads
from filehost_tui.paths import AppPaths
from tests.test_queue_reads import assert_no_scan, fill, hot_statements

DAY = 86400.0


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """40 items finished 100 days ago, 20 yesterday; metrics for the first 30 uploads, and
    bandwidth samples from before and inside the retention window."""
    home = tmp_path / "home"
    db = open_database(AppPaths.resolve(str(home)).database)
    now = time.time()
    try:
        fill(db, 40, start_ts=now - 100 * DAY)
        fill(db, 20, start_ts=now - DAY)
        FileHostUpload.update(status="completed", finished_ts=now - 99 * DAY).where(
            FileHostUpload.item <= 5
        ).execute()  # five items done everywhere: they go with their uploads
        metrics = MetricsStore(db)
        for upload in FileHostUpload.select().where(FileHostUpload.id <= 30):
            metrics.record_upload_success(upload.host_name, upload.item_id, upload.id, 1, 10, 10)
        metrics.record_bandwidth_samples({"alpha": 5.0}, now - SAMPLE_RETENTION_S - DAY)
        metrics.record_bandwidth_samples({"alpha": 7.0}, now - DAY)
    finally:
        db.close()
    return home


def snapshot(home: Path) -> dict:
    db = open_database(AppPaths.resolve(str(home)).database)
    try:
        uploads = list(FileHostUpload.select().order_by(FileHostUpload.id))
        return {
            "uploads": [(u.id, u.item_id, u.status, u.finished_ts) for u in uploads],
            "items": [i for (i,) in Item.select(Item.id).order_by(Item.id).tuples()],
            "metrics": UploadMetric.select().count(),
            "samples": [s.bytes_per_s for s in BandwidthSample.select()],
            "counts": QueueReads(db).counts(),
            "truth": dict(Counter((u.host_name, u.status) for u in uploads)),
        }
    finally:
        db.close()


def run(home: Path, capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(["--home", str(home), "prune", *args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_prune_removes_old_finished_history_and_keeps_everything_else(home, capsys):
    before = snapshot(home)
    cutoff = time.time() - 90 * DAY
    old = {
        u
        for u in before["uploads"]
        if u[2] in ("completed", "cancelled") and u[3] is not None and u[3] < cutoff
    }
    assert len(old) == 15 + 52  # five items done everywhere, then half of the other 35 × 3

    code, out, _ = run(home, capsys, "--finished-before", "90d", "--dry-run")
    kept_items = {u[1] for u in before["uploads"] if u not in old}
    gone_items = set(before["items"]) - kept_items
    assert code == 0 and out.startswith("would remove 67 upload(s) finished before ")
    assert f" and {len(gone_items)} item(s) left without uploads; statistics stay" in out
    assert snapshot(home) == before

    code, out, _ = run(home, capsys, "--finished-before", "90d")
    assert code == 0 and out.startswith("removed 67 upload(s) finished before ")
    after = snapshot(home)
    assert after["uploads"] == [u for u in before["uploads"] if u not in old]
    assert set(after["items"]) == kept_items and gone_items == {1, 2, 3, 4, 5}
    assert after["metrics"] == before["metrics"] == 30
    assert after["samples"] == [7.0]
    assert after["counts"] == after["truth"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "the following arguments are required: --finished-before"),
        (("--finished-before", "ninety"), "'ninety' is not an age; write a number and a unit"),
        (("--finished-before", "-5d"), "argument --finished-before: expected one argument"),
    ],
)
def test_bad_prune_options_are_one_line_errors_and_remove_nothing(home, capsys, args, message):
    before = snapshot(home)
    code, _, err = run(home, capsys, *args)
    assert code == 2 and err.count("\n") == 1 and message in err
    assert snapshot(home) == before


def test_prune_searches_indexes(tmp_path):
    from filehost_tui.engine.history_prune import count_prunable, prune_history

    def run_prune(db):
        count_prunable(db, 1_030.0)
        prune_history(db, 1_030.0)

    assert_no_scan(hot_statements(tmp_path, run_prune))
