"""A host's login token, shared by all of its worker threads.

One login at a time: a worker that needs a token while another is logging in waits for that login
instead of starting its own (hosts lock accounts that log in in bursts). For the same reason a
refused login is not repeated for a minute: the workers that were waiting get the same refusal.
New credentials come with a new client, and so with a new cache. Tokens live in memory only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from filehost_tui.errors import ErrorKind, UploadError

REFUSED_QUIET_S = 60.0  # after refused credentials: no login with them, no upload (engine)


class TokenCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self._refused: tuple[float, UploadError] | None = None

    def get(self, login: Callable[[], str]) -> str:
        """The cached token if still fresh, else the result of `login()` (run under the lock)."""
        with self._lock:
            if self._token is not None and self._clock() < self._expires:
                return self._token
            if self._refused is not None and self._clock() - self._refused[0] < REFUSED_QUIET_S:
                refusal = self._refused[1]
                raise UploadError(refusal.kind, refusal.message, retry_after=refusal.retry_after)
            try:
                token = login()
            except UploadError as exc:
                if exc.kind is ErrorKind.AUTH:
                    self._refused = (self._clock(), exc)
                raise
            self._refused = None
            self._token, self._expires = token, self._clock() + self._ttl
            return token

    def invalidate(self, stale: str) -> None:
        """Forget `stale` — unless another worker already replaced it with a fresh token."""
        with self._lock:
            if self._token == stale:
                self._token = None

    def current(self) -> str | None:
        """The token held now, fresh or not (for masking it out of messages)."""
        return self._token

    def __repr__(self) -> str:
        return f"TokenCache(ttl={self._ttl}, cached={self._token is not None})"
