"""Upload speed measurement and throttling, fed from pycurl progress callbacks.

Why it looks like this (docs/architecture.md, 'The speed meter'):
- One meter: every rate the user sees — a row, its host line, the total and sparkline, the peaks
  of `stats` — is read from the same per-upload windows in one snapshot, so they cannot disagree:
  a host's rate is the sum of its uploads' rates, the total the sum of the hosts'.
- pycurl calls progress callbacks many times a second per transfer, with the *cumulative* byte
  count, from worker threads. `BandwidthMeter.record()` therefore does O(1) work under one lock:
  a dict lookup, a subtraction and a bucket addition. Everything costly (summing, peaks) happens
  when the engine's ticker takes a snapshot a few times a second.
- A rate is the bytes of the last `window` seconds (5 s) kept in small time buckets, over the time
  the upload has been sending within that window (at least `min_span`, so a first burst does not
  read as an absurd rate). A stalled upload decays to zero within one window; an upload that ended,
  paused or has sent its last byte (`settle`, `forget`) drops out of every rate at once.
- Peaks are the highest total and host rates among the snapshots, the same figures the faces show.
- `RateLimiter` is a token bucket that a progress callback consults after each callback: it
  returns/sleeps the time needed to get back under the cap. Sleeps are short (a callback must
  stay responsive to cancel); the debt carries over to the next callback. A global limiter and a
  per-host limiter combine through `throttle_all()`: both take the bytes at the same instant and
  the callback sleeps the larger wait, not the sum (calling one limiter's `throttle` after the
  other's would lose the second bucket's refill to its burst cap and wait too long).
- Clocks (and sleep) are injectable so tests never sleep.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

Clock = Callable[[], float]
WINDOW_S = 5.0


@dataclass(frozen=True)
class BandwidthSnapshot:
    """Rates in bytes/s at one moment: each upload sending, each host with one, the total (the
    sums of the uploads' rates), and the highest total seen so far."""

    total: float
    hosts: dict[str, float]
    peak: float
    uploads: dict[Hashable, float]


class _Window:
    """Bytes in fixed time buckets over the last `window` seconds. Caller holds the lock."""

    __slots__ = ("_buckets", "_resolution", "_span", "_sum", "_count", "_active_since")

    def __init__(self, window: float, resolution: float) -> None:
        self._buckets: deque[list[int]] = deque()  # [bucket index, bytes]
        self._resolution = resolution
        self._count = max(1, math.ceil(window / resolution))
        self._span = self._count * resolution
        self._sum = 0
        self._active_since = 0.0

    def add(self, now: float, nbytes: int) -> None:
        """Count `nbytes` at `now`."""
        index = int(now // self._resolution)
        self._expire(index)
        if not self._buckets:
            self._active_since = now  # a fresh burst after idling: do not average over the idle
        self._sum += nbytes
        if self._buckets and self._buckets[-1][0] == index:
            self._buckets[-1][1] += nbytes
        else:
            self._buckets.append([index, nbytes])

    def rate(self, now: float, min_span: float) -> float:
        index = int(now // self._resolution)
        self._expire(index)
        if not self._buckets:
            return 0.0
        window_start = (index - self._count + 1) * self._resolution
        covered = now - max(window_start, self._active_since)
        return self._sum / min(self._span, max(covered, min_span))

    def _expire(self, index: int) -> None:
        oldest = index - self._count + 1
        while self._buckets and self._buckets[0][0] < oldest:
            self._sum -= self._buckets.popleft()[1]


class _Upload:
    """One upload in the meter: its host, last cumulative count, and its window (None once it
    settled: it sends nothing more, so it counts in no rate)."""

    __slots__ = ("host", "last", "window")

    def __init__(self, host: str) -> None:
        self.host = host
        self.last = 0
        self.window: _Window | None = None


class BandwidthMeter:
    """Thread-safe bytes/s per upload, per host and in total over a sliding window, plus peaks.

    `record(key, host, uploaded)` takes the cumulative count of one upload (key = upload id); a
    count lower than the last one (a retry restarted the transfer) counts from zero again.
    """

    def __init__(
        self,
        *,
        window: float = WINDOW_S,
        resolution: float = 0.25,
        min_span: float = 2.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if window <= 0 or resolution <= 0:
            raise ValueError("window and resolution must be positive")
        self._window = window
        self._resolution = resolution
        self._min_span = min(min_span, window)
        self._clock = clock
        self._lock = threading.Lock()
        self._uploads: dict[Hashable, _Upload] = {}
        self._host_bytes: dict[str, int] = {}
        self._total_bytes = 0
        self._peak = 0.0
        self._host_peaks: dict[str, float] = {}

    def record(self, key: Hashable, host: str, uploaded: int) -> int:
        """Feed one upload's cumulative byte count; returns the new bytes since the last call."""
        with self._lock:
            upload = self._uploads.get(key)
            if upload is None:
                upload = self._uploads[key] = _Upload(host)
            delta = uploaded - upload.last if uploaded >= upload.last else uploaded
            upload.last = uploaded
            if delta > 0:
                if upload.window is None:
                    upload.window = _Window(self._window, self._resolution)
                upload.window.add(self._clock(), delta)
                self._host_bytes[host] = self._host_bytes.get(host, 0) + delta
                self._total_bytes += delta
            return delta

    def settle(self, key: Hashable) -> None:
        """The upload sends nothing now (its last byte went, or it waits for the host): it drops
        out of every rate at once; its count is kept, so bytes sent later count from there."""
        with self._lock:
            upload = self._uploads.get(key)
            if upload is not None:
                upload.window = None

    def forget(self, key: Hashable) -> None:
        """The upload ended (finished, failed, paused, cancelled): it drops out of every rate."""
        with self._lock:
            self._uploads.pop(key, None)

    def snapshot(self) -> BandwidthSnapshot:
        """Every rate at one clock reading; uploads and hosts with no rate are left out."""
        with self._lock:
            now = self._clock()
            uploads: dict[Hashable, float] = {}
            hosts: dict[str, float] = {}
            for key, upload in self._uploads.items():
                rate = upload.window.rate(now, self._min_span) if upload.window else 0.0
                if rate > 0:
                    uploads[key] = rate
                    hosts[upload.host] = hosts.get(upload.host, 0.0) + rate
            total = sum(hosts.values())
            self._peak = max(self._peak, total)
            for host, rate in hosts.items():
                self._host_peaks[host] = max(self._host_peaks.get(host, 0.0), rate)
            return BandwidthSnapshot(total, hosts, self._peak, uploads)

    def rate(self, host: str | None = None) -> float:
        """Bytes/s of one host, or of all hosts when `host` is None; 0.0 when nothing flows."""
        snap = self.snapshot()
        return snap.total if host is None else snap.hosts.get(host, 0.0)

    @property
    def peak(self) -> float:
        """The highest total rate among the snapshots taken so far."""
        with self._lock:
            return self._peak

    def host_peak(self, host: str) -> float:
        with self._lock:
            return self._host_peaks.get(host, 0.0)

    def uploaded(self, key: Hashable) -> int:
        """The last cumulative count recorded for `key` (0 if unknown or forgotten)."""
        with self._lock:
            upload = self._uploads.get(key)
            return upload.last if upload is not None else 0

    def host_bytes(self, host: str) -> int:
        with self._lock:
            return self._host_bytes.get(host, 0)

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return self._total_bytes


class RateLimiter:
    """Token bucket in bytes/s; `set_rate` may be called at any time from any thread.

    rate 0 means unlimited. `burst` (bytes) is how much may go out at once after idling; by
    default a quarter second's worth, at least 16 KiB.
    """

    def __init__(
        self,
        rate: float = 0,
        *,
        burst: float | None = None,
        max_sleep: float = 0.25,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._fixed_burst = burst
        self._max_sleep = max_sleep
        self._rate = 0.0
        self._burst = 0.0
        self._tokens = 0.0
        self._stamp = clock()
        self.set_rate(rate)

    @property
    def rate(self) -> float:
        with self._lock:
            return self._rate

    def set_rate(self, bytes_per_s: float) -> None:
        """Change the cap now: debt is re-priced at the new rate; 0 (unlimited) clears it."""
        if bytes_per_s < 0:
            raise ValueError("rate must be >= 0")
        with self._lock:
            now = self._clock()
            self._refill_locked(now)
            self._rate = float(bytes_per_s)
            if self._rate == 0:
                self._tokens = 0.0
                return
            default_burst = max(self._rate / 4, 16 * 1024)
            self._burst = self._fixed_burst if self._fixed_burst is not None else default_burst
            self._tokens = min(self._tokens, self._burst)

    def reserve(self, nbytes: int) -> float:
        """Take `nbytes` from the bucket; returns the seconds to wait to be back under the cap."""
        with self._lock:
            if self._rate == 0:
                return 0.0
            self._refill_locked(self._clock())
            self._tokens -= nbytes
            return 0.0 if self._tokens >= 0 else -self._tokens / self._rate

    def throttle(self, nbytes: int) -> float:
        """`reserve` then sleep at most `max_sleep` of the wait; returns the seconds slept.

        Remaining debt is served by later calls (pycurl calls back often, even with 0 new bytes),
        so a progress callback never blocks long and can still notice a cancel.
        """
        wait = min(self.reserve(nbytes), self._max_sleep)
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)

    def _refill_locked(self, now: float) -> None:
        elapsed = max(0.0, now - self._stamp)
        self._stamp = now
        if self._rate > 0:
            self._tokens = min(self._burst, self._tokens + elapsed * self._rate)


def throttle_all(
    limiters: Iterable[RateLimiter | None],
    nbytes: int,
    *,
    max_sleep: float = 0.25,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Charge `nbytes` to every limiter (None = no cap) and sleep the longest wait, at most
    `max_sleep`; returns the seconds slept. Use it for the global + per-host caps together."""
    wait = max((lim.reserve(nbytes) for lim in limiters if lim is not None), default=0.0)
    wait = min(wait, max_sleep)
    if wait > 0:
        sleep(wait)
    return max(wait, 0.0)
