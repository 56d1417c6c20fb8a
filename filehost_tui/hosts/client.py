"""HostClient: the one interpreter of host specs (docs/host-specs.md, 'How a spec runs').

It walks a spec's steps in order: log in if needed (token shared by the host's workers), render each
request, send it with the calling thread's Transfer, judge the reply (stale token, then ErrorRules via
classify.py), extract variables, poll or finish early, and build the link. Nothing here is specific
to one host; everything a host does differently is in its spec.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from filehost_tui.config import HostSettings, env_key
from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.hosts.classify import classify_response
from filehost_tui.hosts.file_hash import body_md5
from filehost_tui.hosts.flow import (
    AuthPlacement,
    extract_all,
    holds,
    prepare,
    read_result,
    set_cookie,
)
from filehost_tui.hosts.spec import DEFAULT_BASE, TOKEN_VAR, HostSpec, Step
from filehost_tui.hosts.spec_checks import step_variables
from filehost_tui.hosts.template import render
from filehost_tui.hosts.token_cache import TokenCache
from filehost_tui.hosts.trace import Observer, RequestSent, TraceEvent, ValuesExtracted
from filehost_tui.hosts.transfer import thread_transfer
from filehost_tui.hosts.wire import Body, Progress, Response, body_size, with_params
from filehost_tui.redact import redact_text, register_secret
from filehost_tui.secret import Secret
from filehost_tui.units import human_size

API_TIMEOUT = 120.0  # seconds for a small API request; file transfers rely on the stall detector
POLL_SLICE = 0.25  # how often a poll wait checks for cancellation
POLL_FAILURES_TOLERATED = 3  # failed poll replies in a row before the upload fails
TRANSIENT_KINDS = frozenset(
    {ErrorKind.BAD_RESPONSE, ErrorKind.SERVER, ErrorKind.NETWORK, ErrorKind.TIMEOUT}
)


@dataclass(frozen=True)
class UploadResult:
    url: str
    file_id: str | None


@dataclass(frozen=True)
class AccountInfo:
    """What the host says about the account; None where the host does not report it.

    `verified` is False when the spec has no way to check the credentials (e.g. anonymous hosts).
    """

    premium: bool | None = None
    storage_left: int | None = None
    max_file_size: int | None = None
    verified: bool = True

    def facts(self) -> list[str]:
        """What the host reported, as short phrases ("premium", "1.0GiB storage left")."""
        parts = []
        if self.premium is not None:
            parts.append("premium" if self.premium else "free account")
        if self.storage_left is not None:
            parts.append(f"{human_size(self.storage_left)} storage left")
        if self.max_file_size is not None:
            parts.append(f"max file {human_size(self.max_file_size)}")
        return parts


@dataclass
class _Run:
    """State of one upload (or account check): variables and the one-re-login budget."""

    values: dict[str, Any] = field(repr=False)  # holds revealed credentials and tokens
    path: Body | None = None
    size: int = 0
    progress: Progress | None = None
    max_send_speed: int = 0
    reported: int = 0
    relogged: bool = False
    file_accepted: bool = False  # the host answered the file's upload without an error
    secrets: list[str] = field(default_factory=list, repr=False)
    on_phase: Callable[[str], None] | None = None
    observer: Observer | None = None

    def phase(self, name: str) -> None:
        if self.on_phase is not None:
            self.on_phase(name)

    def trace(self, event: TraceEvent) -> None:
        if self.observer is not None:
            self.observer(event)


def effective_bases(spec: HostSpec, settings: HostSettings) -> dict[str, str | None]:
    """base_url and named bases after config overrides.

    A base the user did not override follows an overridden base_url, so pointing base_url at a
    mirror or a loopback test server never leaves another base on the real host.
    """
    override = settings.base_url.rstrip("/") if settings.base_url else None
    bases: dict[str, str | None] = {DEFAULT_BASE: override or spec.base_url}
    for name, url in spec.bases.items():
        chosen = settings.bases.get(name) or override or url
        bases[name] = chosen.rstrip("/")
    return bases


def check_sendable(spec: HostSpec, what: str, value: str) -> None:
    """Raise an auth error when a credential bound for a header or Basic auth is not ASCII.

    curl sends header bytes as they are and hosts take keys and tokens as ASCII, so such a value
    is a paste gone wrong (a curly quote, a non-breaking space), not one to send.
    """
    placement = spec.auth.placement
    if placement in ("header", "basic") and not value.isascii():
        carrier = "Basic auth" if placement == "basic" else "headers"
        raise UploadError(
            ErrorKind.AUTH,
            f"the {what.replace('_', ' ')} holds non-ASCII characters, which HTTP {carrier} "
            f"cannot carry; set it again without them (`filehost-tui hosts {spec.id}` shows where it comes from)",
        )


class HostClient:
    """One per host; thread-safe (token cache shared by all the host's workers)."""

    def __init__(
        self,
        spec: HostSpec,
        settings: HostSettings,
        credentials: Mapping[str, Secret],
        *,
        ca_bundle: str | None = None,
    ) -> None:
        self.spec = spec
        self.settings = settings
        self._credentials = dict(credentials)
        self._bases = effective_bases(spec, settings)
        self._tokens = TokenCache(spec.auth.ttl)
        self._md5_steps = {id(s) for s in spec.steps if "md5" in step_variables(s)}
        self._session_steps = _session_steps(spec)
        self._transfer_args: dict[str, Any] = {"ca_bundle": ca_bundle}
        if settings.low_speed_limit is not None:
            self._transfer_args["low_speed_limit"] = settings.low_speed_limit
        if settings.low_speed_time is not None:
            self._transfer_args["low_speed_time"] = settings.low_speed_time

    def __repr__(self) -> str:
        return f"HostClient({self.spec.id!r})"

    # ----- public API -------------------------------------------------------------------------

    def upload(
        self,
        path: Body,
        *,
        name: str,
        progress: Progress,
        max_send_speed: int = 0,
        on_phase: Callable[[str], None] | None = None,
        observer: Observer | None = None,
    ) -> UploadResult:
        """Upload one file and return its link; raises UploadError (never with a secret in it).

        `on_phase("hashing")` / `on_phase("uploading")` tell the caller what the progress counts:
        bytes read for the MD5 are not bytes sent, and must not be metered or throttled as such.
        `observer` sees each request and extraction as it happens (a spec author's trace)."""
        run = _Run(values={}, path=path, progress=progress, max_send_speed=max_send_speed)
        run.on_phase = on_phase
        run.observer = observer
        try:
            return self._upload(run, path, name)
        except UploadError as exc:
            if run.file_accepted and exc.kind is not ErrorKind.CANCELLED:
                exc = UploadError(
                    exc.kind,
                    f"{exc.message}; the file may already be on {self.spec.name}, "
                    "so a retry may leave a second copy there",
                    retry_after=exc.retry_after,
                )
            raise self._clean(exc, run) from None

    def check_account(self) -> AccountInfo:
        """Verify the credentials (login, or the spec's account steps) and read what is reported."""
        run = _Run(values={})
        try:
            return self._check_account(run)
        except UploadError as exc:
            raise self._clean(exc, run) from None

    # ----- flow -------------------------------------------------------------------------------

    def _upload(self, run: _Run, path: Body, name: str) -> UploadResult:
        run.size = body_size(path)
        limit = self.spec.max_file_size
        if limit is not None and run.size > limit:
            raise UploadError(
                ErrorKind.TOO_LARGE, f"{self.spec.name} accepts files up to {limit} bytes"
            )
        self._start(run)
        run.values.update(name=name, size=run.size)
        for step in self.spec.steps:
            if id(step) in self._md5_steps and "md5" not in run.values:
                run.phase("hashing")
                run.values["md5"] = body_md5(path, self._report(run, hashing=True))
                run.reported = 0  # bytes hashed are not bytes sent
                run.phase("uploading")
            resp = self._poll(run, step) if step.poll is not None else self._perform(run, step)
            run.file_accepted = run.file_accepted or step.sends_file
            extracted = extract_all(step, resp)
            run.trace(ValuesExtracted(step.name, extracted))
            run.values.update(extracted)
            if step.finish_if is not None and holds(step.finish_if, resp):
                break
        return self._result(run)

    def _check_account(self, run: _Run) -> AccountInfo:
        self._start(run)
        logged_in = self.spec.auth.kind in ("login", "session_cookie")
        if logged_in:
            self._token(run)
        asked = bool(self.spec.account)
        for step in self.spec.account:
            if step_variables(step) - run.values.keys():
                # It needs an optional credential the user has not given (an account API that
                # wants a key the uploads do not): nothing to ask with, so nothing verified.
                asked = False
                break
            try:
                run.values.update(extract_all(step, self._perform(run, step)))
            except UploadError as exc:
                # After a successful login the account details are a bonus: a mirror or server
                # without the info method must not make valid credentials look wrong.
                if not logged_in or exc.kind is not ErrorKind.BAD_RESPONSE:
                    raise
                break
        verified = asked or logged_in
        values = run.values
        return AccountInfo(
            premium=_truthy(values.get("premium")),
            storage_left=_int(values.get("storage_left")),
            max_file_size=_int(values.get("max_file_size")) or self.spec.max_file_size,
            verified=verified,
        )

    def _start(self, run: _Run) -> None:
        """Check base URL and credentials, and seed the variables every step may use."""
        spec = self.spec
        base = self._bases[DEFAULT_BASE]
        if base is None:
            raise UploadError(
                ErrorKind.BAD_RESPONSE,
                f"no server for host {spec.id}: set base_url for host {spec.id} in config.toml "
                f"(or {env_key(spec.id, 'BASE_URL')})",
            )
        missing = [f for f in spec.required_credentials if not self._credentials.get(f)]
        if missing:
            raise UploadError(
                ErrorKind.AUTH,
                f"{spec.name} needs {', '.join(missing)}: run `filehost-tui login {spec.id}`",
            )
        for key, secret in self._credentials.items():
            if secret and key in spec.credential_fields:
                register_secret(secret)  # log records that echo it get it masked too
                run.values[key] = secret.reveal()
                run.secrets.append(secret.reveal())
        run.values["base"] = base
        run.values["scheme"] = urlsplit(base).scheme
        for name, url in self._bases.items():
            if name != DEFAULT_BASE:
                run.values[f"base_{name}"] = url

    def _result(self, run: _Run) -> UploadResult:
        url, file_id = read_result(self.spec.result, run.values, self.spec.name)
        return UploadResult(url=url, file_id=file_id)

    def _poll(self, run: _Run, step: Step) -> Response:
        """Ask until the host has processed the upload. The file is on the host by now, so a
        failed or garbled reply in between is asked again (POLL_FAILURES_TOLERATED in a row)
        instead of failing, and later re-sending, an upload that may have taken hours."""
        assert step.poll is not None
        deadline = time.monotonic() + step.poll.timeout
        failures = 0
        while True:
            try:
                resp = self._perform(run, step)
                if holds(step.poll.until, resp):
                    return resp
                failures = 0
            except UploadError as exc:
                failures += 1
                if exc.kind not in TRANSIENT_KINDS or failures >= POLL_FAILURES_TOLERATED:
                    raise
            if time.monotonic() + step.poll.interval > deadline:
                raise UploadError(
                    ErrorKind.TIMEOUT,
                    f"{step.name}: {self.spec.name} still processing after {step.poll.timeout:g} s",
                )
            self._wait(run, step.poll.interval)

    def _wait(self, run: _Run, seconds: float) -> None:
        """Sleep between polls, checking the progress callback for a cancel request."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if run.progress is not None and run.progress(run.reported, run.size):
                raise UploadError(ErrorKind.CANCELLED, "cancelled")
            time.sleep(min(POLL_SLICE, left))

    # ----- requests, authentication -----------------------------------------------------------

    def _perform(self, run: _Run, step: Step) -> Response:
        """Send a step; on a stale-token reply, log in again once and resend it once."""
        uses_token = id(step) in self._session_steps
        while True:
            token = self._token(run) if uses_token else None
            resp = self._send(run, step, self._placement(step, token))
            if token is not None and self._stale(resp):
                if run.relogged:
                    raise UploadError(
                        ErrorKind.AUTH,
                        f"{step.name}: {self.spec.name} rejected a fresh login's session too",
                    )
                run.relogged = True
                self._tokens.invalidate(token)
                continue
            error = classify_response(
                resp, (*step.errors, *self.spec.errors), expect_redirect=step.expect_redirect
            )
            if error is not None:
                raise UploadError(
                    error.kind, f"{step.name}: {error.message}", retry_after=error.retry_after
                )
            return resp

    def _send(self, run: _Run, step: Step, auth: AuthPlacement | None) -> Response:
        prepared = prepare(step, run.values, self._bases_for_send(), run.path, auth)
        transfer = thread_transfer(**self._transfer_args)
        kwargs = dict(prepared.kwargs)
        if step.sends_file:
            kwargs["max_send_speed"] = run.max_send_speed
        else:
            kwargs["timeout"] = API_TIMEOUT
        kwargs["progress"] = self._report(run, sending=step.sends_file)
        started = time.monotonic()
        resp = transfer.request(prepared.method, prepared.url, **kwargs)
        if run.observer is not None:
            url = with_params(prepared.url, kwargs.get("params"))
            elapsed = time.monotonic() - started
            run.trace(RequestSent(step.name, prepared.method, url, resp.status, elapsed))
        return resp

    def _bases_for_send(self) -> dict[str, str]:
        return {k: v for k, v in self._bases.items() if v is not None}

    def _stale(self, resp: Response) -> bool:
        text = resp.text()
        return any(re.search(p, text) for p in self.spec.auth.stale_patterns)

    def _token(self, run: _Run) -> str:
        token = self._tokens.get(lambda: self._login(run))
        if token not in run.secrets:
            run.secrets.append(token)
        run.values[TOKEN_VAR] = token
        return token

    def _login(self, run: _Run) -> str:
        auth = self.spec.auth
        assert auth.login is not None
        for step in auth.before_login:
            run.values.update(extract_all(step, self._login_request(run, step)))
        resp = self._login_request(run, auth.login)
        if auth.kind == "session_cookie":
            token = set_cookie(resp, auth.cookie_name or "")
        else:
            token = extract_all(auth.login, resp).get(TOKEN_VAR)
        if not token:
            raise UploadError(ErrorKind.AUTH, f"login: {self.spec.name} gave no session")
        register_secret(str(token))
        run.secrets.append(str(token))
        run.trace(ValuesExtracted(auth.login.name, {TOKEN_VAR: token}))
        return str(token)

    def _login_request(self, run: _Run, step: Step) -> Response:
        """A step of logging in: sent without a token, judged by its own and the host's rules."""
        resp = self._send(run, step, None)
        error = classify_response(
            resp, (*step.errors, *self.spec.errors), expect_redirect=step.expect_redirect
        )
        if error is not None:
            raise UploadError(error.kind, f"login: {error.message}", retry_after=error.retry_after)
        return resp

    def _placement(self, step: Step, token: str | None) -> AuthPlacement | None:
        auth = self.spec.auth
        if not step.auth or auth.kind == "none":
            return None
        if auth.kind == "session_cookie":
            return AuthPlacement("header", "Cookie", f"{auth.cookie_name}={token}")
        if auth.placement is None:
            return None
        values = {k: s.reveal() for k, s in self._credentials.items() if s}
        if auth.kind == "api_key":
            value = values.get(auth.credential or "")
            if not value:
                return None  # optional key, not set: anonymous
            default = f"{{{auth.credential}}}"
        else:
            values[TOKEN_VAR] = token or ""
            default = f"{{{TOKEN_VAR}}}"
        value = render(auth.format or default, values)
        what = auth.credential if auth.kind == "api_key" else "session token"
        check_sendable(self.spec, what or "credential", value)
        return AuthPlacement(auth.placement, auth.name or "", value)

    def _report(self, run: _Run, *, sending: bool = False, hashing: bool = False) -> Progress:
        """The progress callback for one request: bytes of the file when sending or hashing,
        otherwise the last reported value (the callback still carries cancellation)."""
        user = run.progress

        def report(done: int, total: int) -> bool:
            if sending or hashing:
                run.reported = min(done, run.size)
            return bool(user(run.reported, run.size)) if user is not None else False

        return report

    def _clean(self, exc: UploadError, run: _Run) -> UploadError:
        secrets = [*run.secrets]
        current = self._tokens.current()
        if current:
            secrets.append(current)
        message = redact_text(f"{self.spec.id}: {exc.message}", secrets)
        return UploadError(exc.kind, message, retry_after=exc.retry_after)


def _session_steps(spec: HostSpec) -> set[int]:
    """Steps whose reply can say the login expired: those that carry the token, as placed auth or
    as "{token}" in a template (an XFS upload form's sess_id is the session itself)."""
    if spec.auth.kind not in ("login", "session_cookie"):
        return set()
    steps = (*spec.steps, *spec.account)
    return {id(s) for s in steps if s.auth or TOKEN_VAR in step_variables(s)}


def _truthy(value: Any) -> bool | None:
    if value is None:
        return None
    return str(value).strip().lower() not in ("", "0", "false", "no", "none", "null")


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None
