"""Metrics: one row per finished upload, aggregates per period, bandwidth peaks and series."""

from __future__ import annotations

import pytest

from filehost_tui.engine.models import UploadMetric
from filehost_tui.errors import ErrorKind

pytestmark = pytest.mark.both_databases


def finish_after_two_retries(store, metrics, path) -> int:
    (upload_id,) = store.add([path], ["alpha"])
    for _ in range(2):
        store.claim("alpha", "w")
        store.fail(upload_id, ErrorKind.SERVER, "503", retryable=True, max_retries=5, base_delay=0)
    store.claim("alpha", "w")
    store.complete(upload_id, "http://127.0.0.1/f/1", "1")
    up = store.get(upload_id)
    metrics.record_upload_success("alpha", up.item.id, upload_id, 2.0, 1000, 500.0, up.retry_count)
    return upload_id


def test_success_after_two_retries_is_one_success_row(store, metrics, sample_file):
    upload_id = finish_after_two_retries(store, metrics, sample_file)
    rows = list(UploadMetric.select())
    assert [(r.upload_id, r.status, r.retry_count) for r in rows] == [(upload_id, "success", 2)]
    s = metrics.stats("all")
    assert s["alpha"].as_dict() == {
        "files": 1,
        "failed": 0,
        "bytes": 1000,
        "avg_bytes_per_s": 500.0,
        "peak_bytes_per_s": 500.0,
        "success_rate": 1.0,
    }
    assert s["total"].files == 1


def test_a_failed_then_user_retried_upload_ends_as_one_success(store, metrics, sample_file):
    (upload_id,) = store.add([sample_file], ["alpha"])
    store.claim("alpha", "w")
    store.fail(upload_id, ErrorKind.AUTH, "denied", retryable=False, max_retries=5, base_delay=0)
    item_id = store.get(upload_id).item.id
    metrics.record_upload_failure("alpha", item_id, upload_id, "denied", 0, False)
    assert metrics.stats()["alpha"].failed == 1
    store.retry(upload_id)
    store.claim("alpha", "w")
    store.complete(upload_id, "http://127.0.0.1/f", None)
    metrics.record_upload_success("alpha", item_id, upload_id, 1.0, 10, 10.0)
    assert UploadMetric.select().count() == 1
    s = metrics.stats()["alpha"]
    assert (s.files, s.failed, s.success_rate) == (1, 0, 1.0)


def test_periods_cut_at_their_start(metrics, clock):
    day = 86400.0
    base = clock.now
    for age_days, upload_id in ((0.5, 1), (3, 2), (20, 3), (40, 4)):
        clock.now = base - age_days * day
        metrics.record_upload_success("alpha", upload_id, upload_id, 1.0, 100, 100.0)
    clock.now = base - 0.1 * day
    metrics.record_upload_failure("beta", 5, 5, "boom", 3, True)
    clock.now = base
    files = {p: metrics.stats(p)["total"].files for p in ("24h", "7d", "30d", "all")}
    assert files == {"24h": 1, "7d": 2, "30d": 3, "all": 4}
    assert metrics.stats("24h")["total"].success_rate == 0.5
    assert metrics.stats("24h")["beta"].success_rate == 0.0


def test_session_period_starts_when_work_starts(metrics, clock):
    metrics.record_upload_success("alpha", 1, 1, 1.0, 100, 100.0)
    clock.now += 10
    metrics.start_session()
    assert metrics.stats("session")["total"].files == 0
    clock.now += 10
    metrics.record_upload_success("alpha", 2, 2, 1.0, 100, 100.0)
    assert metrics.stats("session")["total"].files == 1


def test_average_speed_is_bytes_over_transfer_time(metrics):
    metrics.record_upload_success("alpha", 1, 1, 1.0, 100, 100.0)
    metrics.record_upload_success("alpha", 2, 2, 3.0, 500, 166.7)
    assert metrics.stats()["alpha"].avg_bytes_per_s == pytest.approx(600 / 4)


def test_peaks_per_host_and_total_come_from_samples_of_one_tick(metrics, clock):
    metrics.record_bandwidth_samples({"alpha": 100.0, "beta": 300.0}, clock.now - 10)
    metrics.record_bandwidth_samples({"alpha": 250.0}, clock.now - 5)
    metrics.record_upload_success("alpha", 1, 1, 1.0, 1, 1.0)
    metrics.record_upload_success("beta", 2, 2, 1.0, 1, 1.0)
    s = metrics.stats()
    assert (s["alpha"].peak_bytes_per_s, s["beta"].peak_bytes_per_s) == (250.0, 300.0)
    assert s["total"].peak_bytes_per_s == 400.0


def test_peak_is_never_below_the_fastest_uploads_own_average(metrics, clock):
    """An upload shorter than a sampling tick leaves no sample; its speed still counts."""
    metrics.record_bandwidth_samples({"alpha": 100.0}, clock.now - 10)
    metrics.record_upload_success("alpha", 1, 1, 0.5, 1000, 2000.0)
    metrics.record_upload_failure("beta", 2, 2, "boom", 0, False)
    s = metrics.stats()
    assert s["alpha"].peak_bytes_per_s == 2000.0
    assert s["alpha"].peak_bytes_per_s >= s["alpha"].avg_bytes_per_s
    assert s["beta"].peak_bytes_per_s == 0.0
    assert s["total"].peak_bytes_per_s == 2000.0


def test_bandwidth_series_buckets_the_last_minutes_and_fills_gaps(metrics, clock):
    metrics.record_bandwidth_samples({"alpha": 100.0, "beta": 50.0}, clock.now - 50)
    metrics.record_bandwidth_samples({"alpha": 200.0}, clock.now - 5)
    metrics.record_bandwidth_samples({"alpha": 999.0}, clock.now - 500)
    assert metrics.bandwidth_series(1, 6) == [0.0, 150.0, 0.0, 0.0, 0.0, 200.0]
    assert metrics.bandwidth_series(1, 6, host="beta") == [0.0, 50.0, 0.0, 0.0, 0.0, 0.0]


def test_old_samples_are_pruned(metrics, clock):
    metrics.record_bandwidth_samples({"alpha": 1.0}, clock.now - 40 * 86400)
    metrics.record_bandwidth_samples({"alpha": 2.0}, clock.now - 60)
    assert metrics.prune_samples() == 1
