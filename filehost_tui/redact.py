"""Keep secrets out of text the user or a log file will see.

Two nets, because neither catches everything alone:
- known values: every credential looked up or revealed for sending is registered in a process-wide
  SecretRegistry, and any occurrence of it becomes *** in whatever form a reply can carry it: raw,
  URL-encoded, JSON-escaped (`\\/`, `\\"`, `\\u00e9`), HTML-escaped (`&quot;`, `&#43;`) or base64;
- token-shaped text: query/form parameters such as `token=`, `api_key=`, `password=`, `sess_id=`,
  `Bearer ...` and JSON `"password": "..."` are masked even when the value was never registered
  (e.g. a session token a host just handed out).

Every match is masked whole, including overlapping matches of two secrets, so no head or tail of a
value survives. The log filter rewrites each record once (message with its args, traceback, stack)
so every handler downstream sees the masked text. All patterns are compiled once; the known-values
pattern is rebuilt only when a new secret is registered.
"""

from __future__ import annotations

import logging
import re
import threading
from base64 import b64encode
from collections.abc import Iterable
from dataclasses import dataclass
from html.entities import html5

from filehost_tui.secret import Secret

MASK = "***"
MIN_SECRET_LENGTH = 4
# A shorter run of base64 could be any word; 6 characters carry 36 bits of the value.
MIN_BASE64_CORE = 6

_NAME_WORDS = r"(?:token|key|pass|passwd|password|secret|auth|sess_?id|session|sid|signature|sig)"
# name=value where the name ends in one of the words above (api_key, access_token, X-Auth, ...).
# A backslash escape (JSON's \" or \/) belongs to the value: stopping there would leave a tail.
_PARAM = re.compile(rf"(?i)(?<![\w.-])([\w.-]*?{_NAME_WORDS}=)((?:\\.|[^&\s\"'<>,;)\]}}\\])+)")
# "password": "value" (JSON bodies and dict reprs); the value runs to its unescaped closing quote,
# or to the end of a text that was cut short.
_QUOTED = re.compile(
    rf"(?i)([\"'][\w.-]*?{_NAME_WORDS}[\"']\s*:\s*)(\"(?:[^\"\\]|\\.)*\"?|'(?:[^'\\]|\\.)*'?)"
)
# Authorization headers.
_SCHEME = re.compile(r"(?i)\b(bearer\s+|basic\s+|oauth\s+)([A-Za-z0-9._~+/=-]{6,})")


def _html_names() -> dict[str, list[str]]:
    """Each character's named HTML references (`&quot;`, `&QUOT;`, `&quot`), longest first."""
    names: dict[str, list[str]] = {}
    for name, char in sorted(html5.items(), key=lambda item: -len(item[0])):
        if len(char) == 1:
            names.setdefault(char, []).append(name)
    return names


_HTML_NAMES = _html_names()


def _char_forms(char: str) -> str:
    """A regex for one character of a secret as a reply may carry it.

    Letters and digits travel as themselves in URLs, JSON and HTML; any other character may be
    percent-encoded (UTF-8, either hex case), `+` for a space, JSON-escaped (`\\/`, `\\"`, `\\uXXXX`
    with surrogate pairs) or an HTML character reference (named, decimal or hex).
    """
    if char.isascii() and char.isalnum():
        return char
    forms = [re.escape(char), "(?i:" + "".join(f"%{b:02x}" for b in char.encode()) + ")"]
    if char == " ":
        forms.append(r"\+")
    if char in '"\\/':
        forms.append(re.escape("\\" + char))
    units = char.encode("utf-16-be")
    codes = [int.from_bytes(units[i : i + 2]) for i in range(0, len(units), 2)]
    forms.append("".join(rf"\\u(?i:{code:04x})" for code in codes))
    forms.append(f"&#0*{ord(char)};")
    forms.append(f"&#[xX]0*(?i:{ord(char):x});")
    forms.extend(re.escape("&" + name) for name in _HTML_NAMES.get(char, ()))
    return "(?:" + "|".join(forms) + ")"


def _encoded(text: str) -> str:
    return "".join(_char_forms(char) for char in text)


def _base64_forms(value: str) -> set[str]:
    """Regexes for what base64 of `value` always contains, wherever it sits in the encoded data.

    Base64 works on 3-byte groups, so the value encodes one of three ways depending on how many
    bytes precede it (as in `base64("user:" + key)`); the characters touched by its neighbours
    differ, the rest do not. Each form also matches the URL-safe alphabet and JSON's `\\/`.
    """
    data = value.encode()
    forms = set()
    for offset in range(3):
        first = -(-8 * offset // 6)  # the first character made of the value's bits alone
        end = 8 * (offset + len(data)) // 6
        core = b64encode(bytes(offset) + data).decode()[first:end]
        if len(core) >= MIN_BASE64_CORE:
            forms.add(core.replace("+", "[+-]").replace("/", r"(?:\\?/|_)"))
    return forms


@dataclass(frozen=True)
class _KnownValues:
    """One alternation of every form of every value, longest value first.

    Searching again from the character after each match start (not from its end) finds a second
    secret that overlaps the first, so both are masked whole instead of leaving a tail."""

    pattern: re.Pattern[str]

    def mask(self, text: str) -> str:
        spans: list[list[int]] = []
        found = self.pattern.search(text)
        while found is not None:
            start, end = found.span()
            if spans and start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], end)
            else:
                spans.append([start, end])
            found = self.pattern.search(text, start + 1)
        if not spans:
            return text
        parts, position = [], 0
        for start, end in spans:
            parts += [text[position:start], MASK]
            position = end
        parts.append(text[position:])
        return "".join(parts)


def _known_values(values: Iterable[str]) -> _KnownValues | None:
    usable = {value for value in values if len(value) >= MIN_SECRET_LENGTH}
    if not usable:
        return None
    forms = {_encoded(value): len(value) for value in usable}
    for value in usable:
        forms.update((form, len(value)) for form in _base64_forms(value))
    # Longest first, so a secret that contains another is masked whole.
    return _KnownValues(re.compile("|".join(sorted(forms, key=forms.__getitem__, reverse=True))))


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """`text` with each of `secrets` (in any form a reply may carry it) replaced by ***.

    Values shorter than 4 characters are ignored: masking every "a" or "12" would make the text
    useless and such values are not secrets worth the name.
    """
    known = _known_values(secrets)
    return known.mask(text) if known is not None else text


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
    text = _QUOTED.sub(lambda m: m.group(1) + m.group(2)[0] + MASK + m.group(2)[0], text)
    return _SCHEME.sub(lambda m: m.group(1) + MASK, text)


class SecretRegistry:
    """The set of secret values known to this process; thread-safe.

    Registration is rare (a login, a lookup) but comes in bursts, redaction is frequent (every log
    record), and compiling the pattern costs milliseconds: so a registration only marks the pattern
    stale, the next redaction rebuilds it once, and the ones after read it without a lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._known: _KnownValues | None = None
        self._stale = False

    def register(self, value: str | Secret) -> None:
        """Remember a value so it is masked from now on; short or empty values are ignored."""
        raw = value.reveal() if isinstance(value, Secret) else value
        if not isinstance(raw, str) or len(raw) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if raw in self._values:
                return
            self._values.add(raw)
            self._stale = True

    def clear(self) -> None:
        """Forget every value (tests, or a logout that ends the process's use of them)."""
        with self._lock:
            self._values.clear()
            self._known = None
            self._stale = False

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def __len__(self) -> int:
        return len(self._values)

    def redact(self, text: str) -> str:
        if self._stale:
            with self._lock:
                if self._stale:
                    self._known = _known_values(self._values)
                    self._stale = False
        known = self._known
        return known.mask(text) if known is not None else text


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
