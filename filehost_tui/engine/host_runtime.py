"""What one host's worker holds while the engine runs: its spec, settings, client, rate cap and
the trouble that concerns the whole host (backoff, refused credentials)."""

from __future__ import annotations

import threading
import time

from filehost_tui.config import HostSettings, env_key
from filehost_tui.credentials import lookup_credentials
from filehost_tui.engine.bandwidth import RateLimiter
from filehost_tui.errors import ErrorKind, UploadError, UserError
from filehost_tui.hosts.client import HostClient
from filehost_tui.hosts.spec import HostSpec
from filehost_tui.hosts.token_cache import REFUSED_QUIET_S
from filehost_tui.paths import AppPaths
from filehost_tui.secret import Secret


def connection_count(spec: HostSpec, settings: HostSettings) -> int:
    """How many uploads of a host run at once, each on a connection thread of its own: the user's
    max_connections, else the spec's."""
    return max(1, settings.max_connections or spec.max_connections)


class HostRuntime:
    """What one host's worker holds: its spec, settings, client, rate cap and recent trouble."""

    def __init__(
        self, spec: HostSpec, settings: HostSettings, paths: AppPaths, ca_bundle: str | None
    ) -> None:
        self.spec = spec
        self.settings = settings
        self._paths = paths
        self._ca_bundle = ca_bundle
        self._client: HostClient | None = None
        self._client_lock = threading.Lock()
        self._credentials: dict[str, Secret] = {}
        self._missing: list[str] = []
        self.limiter = RateLimiter(settings.max_upload_speed)
        self.max_connections = connection_count(spec, settings)
        self.backoff_until: float | None = None
        self.rate_limited_until = 0.0
        self.full_until = 0.0  # max_connections were running on other runners: look again then
        self.auth_failing = False
        self._auth_failure: tuple[float, str] | None = None

    def client(self) -> HostClient:
        """The host's client, made on first use (a runner with idle hosts never touches the keyring).
        While credentials are missing or were refused, they are read again before each upload: a
        `login` during a run takes effect at once, and new credentials end the quiet minute."""
        with self._client_lock:
            if self._client is None or self._missing or self._auth_failure is not None:
                creds = self._read_credentials()
                if self._client is None or creds != self._credentials:
                    self._client = HostClient(
                        self.spec, self.settings, creds, ca_bundle=self._ca_bundle
                    )
                    self._credentials = creds
                    self._auth_failure = None
            return self._client

    def _read_credentials(self) -> dict[str, Secret]:
        try:
            creds = lookup_credentials(self.spec.id, self.spec.credential_fields, self._paths)
        except UserError as exc:
            raise UploadError(ErrorKind.AUTH, str(exc)) from None
        self._missing = [f for f in self.spec.required_credentials if f not in creds]
        if self._missing:
            hint = " and ".join(env_key(self.spec.id, f.upper()) for f in self._missing)
            raise UploadError(
                ErrorKind.AUTH,
                f"no {', '.join(self._missing)} for {self.spec.id}: run "
                f"`filehost-tui login {self.spec.id}` or set {hint}",
            )
        return creds

    def note_success(self) -> None:
        self.auth_failing = False
        self.backoff_until = None
        self.rate_limited_until = 0.0

    def note_failure(
        self, exc: UploadError, retry_at: float | None, client: HostClient | None
    ) -> None:
        """Remember trouble that concerns the whole host, not just one upload. `client` is the one
        the attempt used: a refusal of credentials that were replaced meanwhile (a `login` while
        it ran) must not start a quiet minute for the new ones."""
        self.backoff_until = retry_at
        if exc.kind == ErrorKind.RATE_LIMITED and retry_at is not None:
            self.rate_limited_until = max(self.rate_limited_until, retry_at)
        self.auth_failing = exc.kind == ErrorKind.AUTH
        if self.auth_failing:
            with self._client_lock:
                known = self._auth_failure
                if client is self._client and (
                    known is None or time.monotonic() - known[0] >= REFUSED_QUIET_S
                ):
                    self._auth_failure = (time.monotonic(), exc.message)

    def claimable_at(self) -> float:
        """A host that said "slow down" gets no new upload before its wait is over: claiming the
        rest of its queue at once would only burn their retries too. A host whose connections
        are all taken by other runners is asked again a little later."""
        return max(self.rate_limited_until, self.full_until)

    def check_recent_auth_failure(self) -> None:
        """After the host refused the credentials, further uploads in the next minute fail at
        once instead of each logging in again (hosts lock accounts that do that). Ask after
        client(), which forgets the failure when the credentials have changed since."""
        known = self._auth_failure
        if known is None:
            return
        at, message = known
        if time.monotonic() - at < REFUSED_QUIET_S:
            raise UploadError(
                ErrorKind.AUTH,
                f"{message} (not tried again so soon; fix the credentials, then retry)",
            )
