"""Turn an HTTP reply into an error kind, or None when the reply is not an error.

Hosts signal failure in their own ways (HTTP 200 with "Invalid token", 403 with "Flood detected"), so a
spec's ErrorRules are tried first; only then the generic status mapping applies. Kinds decide the retry
policy (errors.RETRYABLE_KINDS), so getting 429 vs 403 vs 5xx right here is what makes retries sane.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.hosts.wire import Response, excerpt
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


def classify_response(resp: Response, rules: Sequence[ErrorRule] = ()) -> UploadError | None:
    """The error this reply means, or None. Spec rules first (first match wins), then by status."""
    header_hint = parse_retry_after(resp.headers.get("retry-after"))
    for rule in rules:
        if rule.matches(resp):
            hint = header_hint if header_hint is not None else rule.retry_after
            message = _rule_message(rule, resp) if rule.message else _describe(resp)
            return UploadError(rule.kind, message, retry_after=hint)
    kind = _kind_for_status(resp.status)
    if kind is None:
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
    if status >= 400 or status < 100:
        return ErrorKind.BAD_RESPONSE
    return None


def _describe(resp: Response) -> str:
    text = excerpt(resp.text())
    where = f"HTTP {resp.status} from {redact_url(resp.url)}"
    return f"{where}: {text}" if text else where
