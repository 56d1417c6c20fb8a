"""Bandwidth meter and rate limiter, driven by a fake clock (no real sleeping)."""

from __future__ import annotations

import threading

import pytest

from filehost_tui.engine.bandwidth import BandwidthMeter, RateLimiter, throttle_all


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def feed(meter: BandwidthMeter, clock: FakeClock, key: int, host: str, bps: int, secs: float):
    """Simulate pycurl callbacks every 50 ms reporting a cumulative count at `bps` bytes/s."""
    uploaded = meter.uploaded(key)
    for _ in range(round(secs / 0.05)):
        clock.advance(0.05)
        uploaded += bps // 20
        meter.record(key, host, uploaded)


def test_steady_upload_reads_its_rate() -> None:
    clock = FakeClock()
    meter = BandwidthMeter(clock=clock)

    feed(meter, clock, 1, "gofile", 100_000, 10)

    assert meter.rate("gofile") == pytest.approx(100_000, rel=0.05)
    assert meter.rate() == pytest.approx(100_000, rel=0.05)
    assert meter.host_bytes("gofile") == meter.total_bytes == 1_000_000


def test_rate_decays_to_zero_one_window_after_a_stall() -> None:
    clock = FakeClock()
    meter = BandwidthMeter(window=3.0, resolution=0.25, clock=clock)
    feed(meter, clock, 1, "gofile", 100_000, 5)
    meter.snapshot()  # peaks are what the snapshots showed

    clock.advance(1.5)
    halfway = meter.rate("gofile")
    clock.advance(1.75)  # window + one bucket after the last byte
    snapshot = meter.snapshot()

    assert 30_000 < halfway < 70_000
    assert meter.rate("gofile") == 0.0 and meter.rate() == 0.0
    assert snapshot.total == 0.0 and snapshot.hosts == {}
    assert meter.peak == pytest.approx(100_000, rel=0.05)


def test_per_host_rates_add_up_to_the_total() -> None:
    clock = FakeClock()
    meter = BandwidthMeter(clock=clock)

    for _ in range(100):  # two uploads on one host, one on another, interleaved
        clock.advance(0.05)
        for key, host, step in ((1, "a", 1000), (2, "a", 2000), (3, "b", 5000)):
            meter.record(key, host, meter.uploaded(key) + step)
    snapshot = meter.snapshot()

    assert snapshot.uploads[1] + snapshot.uploads[2] == pytest.approx(snapshot.hosts["a"])
    assert snapshot.hosts["a"] == pytest.approx(60_000, rel=0.05)
    assert snapshot.hosts["b"] == pytest.approx(100_000, rel=0.05)
    assert snapshot.total == pytest.approx(160_000, rel=0.05)
    assert meter.host_peak("b") == pytest.approx(100_000, rel=0.05)
    assert meter.rate("unknown") == 0.0


def test_record_returns_new_bytes_and_a_restarted_upload_counts_from_zero() -> None:
    clock = FakeClock()
    meter = BandwidthMeter(clock=clock)

    assert meter.record(7, "h", 500) == 500
    assert meter.record(7, "h", 500) == 0
    assert meter.record(7, "h", 800) == 300
    assert meter.record(7, "h", 100) == 100  # retry started the body again
    meter.forget(7)
    assert meter.uploaded(7) == 0
    assert meter.total_bytes == 900


def test_fresh_burst_is_not_averaged_over_the_idle_time_before_it() -> None:
    clock = FakeClock()
    meter = BandwidthMeter(window=3.0, min_span=1.0, clock=clock)
    feed(meter, clock, 1, "h", 10_000, 1)
    clock.advance(60)

    feed(meter, clock, 2, "h", 40_000, 1.5)

    assert meter.rate("h") == pytest.approx(40_000, rel=0.05)


def test_meter_is_consistent_under_concurrent_feeding() -> None:
    meter = BandwidthMeter()

    def upload(key: int) -> None:
        for n in range(1, 2001):
            meter.record(key, f"host{key % 2}", n * 10)

    threads = [threading.Thread(target=upload, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert meter.total_bytes == 8 * 20_000
    assert meter.host_bytes("host0") == meter.host_bytes("host1") == 4 * 20_000


def test_limiter_delay_is_debt_over_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100_000, burst=10_000, clock=clock, sleep=clock.sleep)

    assert limiter.reserve(50_000) == pytest.approx(0.5)
    clock.advance(0.5)
    assert limiter.reserve(0) == 0.0  # debt paid back
    clock.advance(10)
    assert limiter.reserve(10_000) == 0.0  # burst allowance after idling, no more
    assert limiter.reserve(20_000) == pytest.approx(0.2)


def test_throttle_sleeps_briefly_and_carries_the_rest_over() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100_000, burst=1, max_sleep=0.25, clock=clock, sleep=clock.sleep)

    first = limiter.throttle(60_000)  # 0.6 s of debt
    rest = [limiter.throttle(0) for _ in range(3)]

    assert first == pytest.approx(0.25)
    assert rest == pytest.approx([0.25, 0.1, 0.0], abs=1e-9)
    assert sum(clock.slept) == pytest.approx(0.6)


def test_rate_change_applies_to_the_next_callback() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10_000, burst=1, clock=clock, sleep=clock.sleep)
    assert limiter.reserve(100_000) == pytest.approx(10.0)

    limiter.set_rate(100_000)
    assert limiter.rate == 100_000
    assert limiter.reserve(0) == pytest.approx(1.0)

    limiter.set_rate(0)  # unlimited: debt forgiven
    assert limiter.reserve(10**9) == 0.0
    assert limiter.throttle(10**9) == 0.0 and clock.slept == []


def test_global_and_host_limiters_combine_to_the_stricter_cap() -> None:
    clock = FakeClock()
    global_cap = RateLimiter(100_000, burst=1, clock=clock)
    host_cap = RateLimiter(50_000, burst=1, clock=clock)

    waited = throttle_all([global_cap, host_cap, None], 100_000, max_sleep=10, sleep=clock.sleep)
    clock.advance(0.5)  # transfer goes on at the stricter cap
    next_wait = throttle_all([global_cap, host_cap], 25_000, max_sleep=10, sleep=clock.sleep)

    assert waited == pytest.approx(2.0)  # max(1 s, 2 s), not the sum
    assert next_wait == pytest.approx(0.5, abs=1e-3)  # host's 25 kB at 50 kB/s; global had room


def test_negative_rate_is_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(-1)


def test_an_upload_that_ended_or_settled_drops_out_of_every_rate_at_once() -> None:
    clock = FakeClock()
    meter = BandwidthMeter(clock=clock)
    feed(meter, clock, 1, "a", 100_000, 6)
    feed(meter, clock, 2, "a", 50_000, 6)

    meter.forget(1)
    after_end = meter.snapshot()
    meter.settle(2)  # sent its last byte: waits for the host's reply
    after_settle = meter.snapshot()

    assert after_end.uploads == {2: pytest.approx(50_000, rel=0.05)}
    assert after_end.hosts["a"] == after_end.total == after_end.uploads[2]
    assert after_settle.total == 0.0 and after_settle.hosts == {} and after_settle.uploads == {}
    meter.record(2, "a", meter.uploaded(2) + 1000)  # more bytes after a settle count from there
    assert meter.total_bytes == 901_000


def test_a_first_burst_is_spread_over_min_span_so_it_never_reads_as_a_spike() -> None:
    """libcurl writes a buffer at once: 2 MB in the first 50 ms must not read as 40 MB/s."""
    clock = FakeClock()
    meter = BandwidthMeter(window=5.0, min_span=2.0, clock=clock)
    clock.advance(0.05)
    meter.record(1, "a", 2_000_000)
    first = meter.snapshot()

    assert first.uploads[1] == pytest.approx(1_000_000)
    assert first.peak == first.total == first.uploads[1]


def test_peak_is_the_highest_total_a_snapshot_showed() -> None:
    clock = FakeClock()
    meter = BandwidthMeter(clock=clock)
    feed(meter, clock, 1, "a", 100_000, 6)
    meter.snapshot()
    for _ in range(120):  # a second upload joins on another host for 6 s
        clock.advance(0.05)
        for key, host in ((1, "a"), (2, "b")):
            meter.record(key, host, meter.uploaded(key) + 5000)
    both = meter.snapshot()
    meter.forget(2)
    meter.snapshot()

    assert meter.peak == pytest.approx(both.total) == pytest.approx(200_000, rel=0.05)
    assert meter.host_peak("a") == pytest.approx(100_000, rel=0.05)
