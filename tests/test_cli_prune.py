"""`prune --finished-before AGE [--dry-run]`: old completed and cancelled uploads go, with items
left without uploads; unfinished and failed uploads, statistics and counts stay true. On SQLite
and on a PostgreSQL schema (`--db`)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from filehost_tui.cli.main import main
from filehost_tui.engine.database import open_database
from filehost_tui.engine.metrics_store import SAMPLE_RETENTION_S, MetricsStore
from filehost_tui.engine.models import BandwidthSample, FileHostUpload, Item, UploadMetric
from filehost_tui.engine.pg_database import open_pg_database
from filehost_tui.engine.queue_reads import QueueReads
from filehost_tui.paths import AppPaths
from tests.conftest import DATABASES
from tests.test_queue_reads import assert_no_scan, fill, hot_statements

DAY = 86400.0


@dataclass(frozen=True)
class Queue:
    home: Path
    args: tuple[str, ...]  # what selects the database on the command line
    open: Callable[[], object]


@pytest.fixture(params=DATABASES)
def home(request, tmp_path: Path) -> Queue:
    """40 items finished 100 days ago, 20 yesterday; metrics for the first 30 uploads, and
    bandwidth samples from before and inside the retention window."""
    home = tmp_path / "home"
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        queue = Queue(home, ("--db", url), lambda: open_pg_database(url))
    else:
        queue = Queue(home, (), lambda: open_database(AppPaths.resolve(str(home)).database))
    db = queue.open()
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
    return queue


def snapshot(home: Queue) -> dict:
    db = home.open()
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


def run(home: Queue, capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(["--home", str(home.home), *home.args, "prune", *args])
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
