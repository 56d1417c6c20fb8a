"""Turn an HTTP reply into an error kind, or None when the reply is not an error.

Hosts signal failure in their own ways (HTTP 200 with "Invalid token", 403 with "Flood detected"), so a
spec's ErrorRules are tried first; only then the generic status mapping applies. Kinds decide the retry
policy (errors.RETRYABLE_KINDS), so getting 429 vs 403 vs 5xx right here is what makes retries sane.

Only a 2xx is a success. Redirects are never followed, so a 3xx means the request did not reach
what it asked for: an upload answered "302 Location: /login" stored nothing, even when its body
looks like a link.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.hosts.wire import Response, excerpt
from filehost_tui.printable import printable
from filehost_tui.redact import redact_url

MAX_RETRY_AFTER = 24 * 3600.0  # a hint beyond a day is a broken header, not advice


@dataclass(frozen=True)
class ErrorRule:
    kind: ErrorKind
    status: int | None = None  # HTTP status to match (None = any)
    body_regex: str | None = None  # re.search on the decoded body (None = any)
    retry_after: float | None = None  # wait hint when the host gives no Retry-After header
    message: str | None = None  # user-facing text; default: a short excerpt of the body.
    # "{name}" in it is what body_regex's named group (?P<name>...) matched, so a host's own figure
    # ("max 2048 Mb") reaches the user without the rest of its page.

    def matches(self, resp: Response) -> bool:
        if self.status is not None and resp.status != self.status:
            return False
        return self.body_regex is None or re.search(self.body_regex, resp.text()) is not None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).

    A date in the past gives 0; an unparseable value gives None (the caller falls back to backoff).
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    delay = when.timestamp() - (time.time() if now is None else now)
    return min(max(0.0, delay), MAX_RETRY_AFTER)


def classify_response(
    resp: Response, rules: Sequence[ErrorRule] = (), *, expect_redirect: bool = False
) -> UploadError | None:
    """The error this reply means, or None. Spec rules first (first match wins), then by status.

    `expect_redirect`: the step's protocol answers with a 3xx (a login that sets a cookie and
    points at the account page), so a 3xx is that step's reply rather than a failure.
    """
    header_hint = parse_retry_after(resp.headers.get("retry-after"))
    for rule in rules:
        if rule.matches(resp):
            hint = header_hint if header_hint is not None else rule.retry_after
            message = _rule_message(rule, resp) if rule.message else _describe(resp)
            return UploadError(rule.kind, message, retry_after=hint)
    kind = _kind_for_status(resp.status)
    if kind is None or (expect_redirect and 300 <= resp.status < 400):
        return None
    hint = header_hint if kind in (ErrorKind.RATE_LIMITED, ErrorKind.SERVER) else None
    return UploadError(kind, _describe(resp), retry_after=hint)


def _rule_message(rule: ErrorRule, resp: Response) -> str:
    """The rule's message with the body's named groups filled in (an unmatched group is empty)."""
    assert rule.message is not None
    found = re.search(rule.body_regex, resp.text()) if rule.body_regex else None
    groups = {k: excerpt(v or "", 60) for k, v in (found.groupdict() if found else {}).items()}
    return re.sub(r"\{(\w+)\}", lambda m: groups.get(m.group(1), m.group(0)), rule.message)


def _kind_for_status(status: int) -> ErrorKind | None:
    if status == 429:
        return ErrorKind.RATE_LIMITED
    if status in (401, 403):
        return ErrorKind.AUTH
    if status == 413:
        return ErrorKind.TOO_LARGE
    if status >= 500:
        return ErrorKind.SERVER
    if status >= 300 or status < 200:
        return ErrorKind.BAD_RESPONSE
    return None


def _describe(resp: Response) -> str:
    where = f"HTTP {resp.status} from {redact_url(resp.url)}"
    if 300 <= resp.status < 400:
        return f"{where}: {_redirect(resp)}"
    text = excerpt(resp.text())
    return f"{where}: {text}" if text else where


def _redirect(resp: Response) -> str:
    """Where a 3xx pointed, as the user can check it: made absolute, tokens masked, one line."""
    location = resp.headers.get("location", "").strip()
    if not location:
        return "a redirect without a Location (redirects are never followed)"
    target = printable(excerpt(redact_url(urljoin(resp.url, location)), 200))
    return f"redirected to {target} (redirects are never followed; check the host's URL)"
