"""Upload speed measurement and throttling, fed from pycurl progress callbacks.

Why it looks like this:
- pycurl calls progress callbacks many times a second per transfer, with the *cumulative* byte
  count, from worker threads. `BandwidthMeter.record()` therefore does O(1) work under one lock:
  a dict lookup, a subtraction and two bucket additions. Everything costly (summing, peaks)
  happens when the engine's tick reads rates a few times a second.
- Rates are bytes over a sliding window (~3 s) kept in small time buckets, so a stalled upload
  decays to zero within one window instead of showing its last speed forever.
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


@dataclass(frozen=True)
class BandwidthSnapshot:
    """Rates in bytes/s at one moment: the total, each host seen in the window, and the peaks."""

    total: float
    hosts: dict[str, float]
    peak: float


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

    def add(self, now: float, nbytes: int) -> bool:
        """Count `nbytes` at `now`; True when this opened a new bucket (a time to sample peaks)."""
        index = int(now // self._resolution)
        self._expire(index)
        if not self._buckets:
            self._active_since = now  # a fresh burst after idling: do not average over the idle
        self._sum += nbytes
        if self._buckets and self._buckets[-1][0] == index:
            self._buckets[-1][1] += nbytes
            return False
        self._buckets.append([index, nbytes])
        return True

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


class BandwidthMeter:
    """Thread-safe bytes/s per host and in total over a sliding window, plus peak rates.

    `record(key, host, uploaded)` takes the cumulative count of one upload (key = upload id); a
    count lower than the last one (a retry restarted the transfer) counts from zero again.
    `min_span` keeps a fresh burst from reading as an absurd rate in its first instant.
    """

    def __init__(
        self,
        *,
        window: float = 3.0,
        resolution: float = 0.25,
        min_span: float = 1.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if window <= 0 or resolution <= 0:
            raise ValueError("window and resolution must be positive")
        self._window = window
        self._resolution = resolution
        self._min_span = min(min_span, window)
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[Hashable, int] = {}
        self._total = _Window(window, resolution)
        self._hosts: dict[str, _Window] = {}
        self._host_bytes: dict[str, int] = {}
        self._total_bytes = 0
        self._peak = 0.0
        self._host_peaks: dict[str, float] = {}

    def record(self, key: Hashable, host: str, uploaded: int) -> int:
        """Feed one upload's cumulative byte count; returns the new bytes since the last call."""
        with self._lock:
            last = self._last.get(key, 0)
            delta = uploaded - last if uploaded >= last else uploaded
            self._last[key] = uploaded
            if delta > 0:
                self._add_locked(host, delta)
            return delta

    def add(self, host: str, nbytes: int) -> None:
        """Feed bytes already known as a delta (no per-upload bookkeeping)."""
        if nbytes > 0:
            with self._lock:
                self._add_locked(host, nbytes)

    def forget(self, key: Hashable) -> None:
        """The upload ended: drop its cumulative counter (bytes already counted stay counted)."""
        with self._lock:
            self._last.pop(key, None)

    def rate(self, host: str | None = None) -> float:
        """Bytes/s of one host, or of all hosts when `host` is None; 0.0 when nothing flowed."""
        with self._lock:
            now = self._clock()
            if host is None:
                return self._total_rate_locked(now)
            window = self._hosts.get(host)
            return 0.0 if window is None else self._host_rate_locked(host, window, now)

    def snapshot(self) -> BandwidthSnapshot:
        """All rates at once (one lock, one clock reading); hosts idle for a window are omitted."""
        with self._lock:
            now = self._clock()
            hosts = {h: self._host_rate_locked(h, w, now) for h, w in self._hosts.items()}
            total = self._total_rate_locked(now)
            return BandwidthSnapshot(total, {h: r for h, r in hosts.items() if r > 0}, self._peak)

    @property
    def peak(self) -> float:
        """The highest total rate seen so far (sampled at each bucket start and at every read)."""
        with self._lock:
            return self._peak

    def host_peak(self, host: str) -> float:
        with self._lock:
            return self._host_peaks.get(host, 0.0)

    def uploaded(self, key: Hashable) -> int:
        """The last cumulative count recorded for `key` (0 if unknown or forgotten)."""
        with self._lock:
            return self._last.get(key, 0)

    def host_bytes(self, host: str) -> int:
        with self._lock:
            return self._host_bytes.get(host, 0)

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return self._total_bytes

    def _add_locked(self, host: str, nbytes: int) -> None:
        now = self._clock()
        window = self._hosts.get(host)
        if window is None:
            window = self._hosts[host] = _Window(self._window, self._resolution)
        if window.add(now, nbytes):
            self._host_rate_locked(host, window, now)  # peaks sampled once per bucket: O(1)
        if self._total.add(now, nbytes):
            self._total_rate_locked(now)
        self._host_bytes[host] = self._host_bytes.get(host, 0) + nbytes
        self._total_bytes += nbytes

    def _total_rate_locked(self, now: float) -> float:
        rate = self._total.rate(now, self._min_span)
        self._peak = max(self._peak, rate)
        return rate

    def _host_rate_locked(self, host: str, window: _Window, now: float) -> float:
        rate = window.rate(now, self._min_span)
        if rate > self._host_peaks.get(host, 0.0):
            self._host_peaks[host] = rate
        return rate


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
