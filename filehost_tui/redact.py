"""Keep secrets out of text the user or a log file will see.

Two nets, because neither catches everything alone:
- known values: every credential looked up or revealed for sending is registered in a process-wide
  SecretRegistry, and any occurrence of it (raw or URL-encoded) becomes ***;
- token-shaped text: query/form parameters such as `token=`, `api_key=`, `password=`, `sess_id=`,
  `Bearer ...` and JSON `"password": "..."` are masked even when the value was never registered
  (e.g. a session token a host just handed out).

The log filter rewrites each record once (message with its args, traceback, stack) so every handler
downstream sees the masked text. All patterns are compiled once; the known-values pattern is rebuilt
only when a new secret is registered.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from filehost_tui.secret import Secret

MASK = "***"
MIN_SECRET_LENGTH = 4

_NAME_WORDS = r"(?:token|key|pass|passwd|password|secret|auth|sess_?id|session|sid|signature|sig)"
# name=value where the name ends in one of the words above (api_key, access_token, X-Auth, ...).
_PARAM = re.compile(rf"(?i)(?<![\w.-])([\w.-]*?{_NAME_WORDS}=)([^&\s\"'<>,;)\]}}]+)")
# "password": "value" (JSON bodies and dict reprs).
_QUOTED = re.compile(rf"(?i)([\"'][\w.-]*?{_NAME_WORDS}[\"']\s*:\s*[\"'])([^\"']+)")
# Authorization headers.
_SCHEME = re.compile(r"(?i)\b(bearer\s+|basic\s+|oauth\s+)([A-Za-z0-9._~+/=-]{6,})")


def _variants(value: str) -> set[str]:
    """The value and the forms it takes in a URL or form body."""
    return {value, quote(value, safe=""), quote_plus(value)}


def _known_values_pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    usable = {v for value in values if len(value) >= MIN_SECRET_LENGTH for v in _variants(value)}
    if not usable:
        return None
    # Longest first, so a secret that contains another is masked whole.
    ordered = sorted(usable, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in ordered))


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """`text` with each of `secrets` (raw or URL-encoded) replaced by ***.

    Values shorter than 4 characters are ignored: masking every "a" or "12" would make the text
    useless and such values are not secrets worth the name.
    """
    pattern = _known_values_pattern(secrets)
    return pattern.sub(MASK, text) if pattern else text


def redact_url(url: str) -> str:
    """The URL with every query value and any userinfo password replaced by ***.

    Works on the text (no re-encoding), so the rest of the URL reads exactly as it was sent.
    """
    rest, hash_mark, fragment = url.partition("#")
    base, question, query = rest.partition("?")
    scheme, sep, after = base.partition("://")
    if sep:
        netloc, slash, path = after.partition("/")
        userinfo, at, host = netloc.rpartition("@")
        if at and ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":" + MASK
        base = scheme + sep + (userinfo + at if at else "") + host + slash + path
    if question:
        parts = []
        for part in query.split("&"):
            name, eq, _value = part.partition("=")
            parts.append(name + eq + MASK if eq else part)
        query = "&".join(parts)
    return base + question + query + hash_mark + fragment


def redact_tokens(text: str) -> str:
    """Mask token-shaped values (name=value pairs, JSON fields, Authorization schemes)."""
    text = _PARAM.sub(lambda m: m.group(1) + MASK, text)
    text = _QUOTED.sub(lambda m: m.group(1) + MASK, text)
    return _SCHEME.sub(lambda m: m.group(1) + MASK, text)


class SecretRegistry:
    """The set of secret values known to this process; thread-safe.

    Registration is rare (a login, a lookup), redaction is frequent (every log record), so the
    compiled pattern is rebuilt on registration and read without a lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def register(self, value: str | Secret) -> None:
        """Remember a value so it is masked from now on; short or empty values are ignored."""
        raw = value.reveal() if isinstance(value, Secret) else value
        if not isinstance(raw, str) or len(raw) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if raw in self._values:
                return
            self._values.add(raw)
            self._pattern = _known_values_pattern(self._values)

    def clear(self) -> None:
        """Forget every value (tests, or a logout that ends the process's use of them)."""
        with self._lock:
            self._values.clear()
            self._pattern = None

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def __len__(self) -> int:
        return len(self._values)

    def redact(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern is not None else text


SECRETS = SecretRegistry()


def register_secret(value: str | Secret) -> None:
    """Add a value to the process-wide registry (e.g. a session token a host just returned)."""
    SECRETS.register(value)


def reveal_for_sending(secret: Secret) -> str:
    """secret.reveal(), registering the value first so any later echo of it is masked."""
    SECRETS.register(secret)
    return secret.reveal()


class RedactingFilter(logging.Filter):
    """Masks registered secrets and token-shaped values in a record's message, traceback and stack.

    It never drops a record. The formatted message replaces msg/args, so handlers that run after it
    (and formatters that call getMessage) see only the masked text.
    """

    def __init__(self, registry: SecretRegistry | None = None) -> None:
        super().__init__()
        self.registry = registry if registry is not None else SECRETS

    def redact(self, text: str) -> str:
        return redact_tokens(self.registry.redact(text))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let logging report it as it normally does
            return True
        clean = self.redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install_log_redaction(
    target: logging.Logger | logging.Handler, registry: SecretRegistry | None = None
) -> RedactingFilter:
    """Attach one RedactingFilter to a logger and to each handler it has now (or to one handler).

    A logger's own filters do not see records propagated from child loggers; handler filters do.
    So install it after the handlers are added, or install it on a handler directly.
    Calling it again does not add a second filter.
    """
    targets: list[logging.Filterer] = [target]
    if isinstance(target, logging.Logger):
        targets.extend(target.handlers)
    existing = next((f for t in targets for f in t.filters if isinstance(f, RedactingFilter)), None)
    chosen = existing or RedactingFilter(registry)
    for item in targets:
        if not any(isinstance(f, RedactingFilter) for f in item.filters):
            item.addFilter(chosen)
    return chosen


def scrub(text: str) -> str:
    """Everything that may be stored or shown: registered secrets and token-shaped values masked."""
    return SECRETS.redact(redact_tokens(text))
