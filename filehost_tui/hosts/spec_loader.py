"""Load host specs: the built-in TOML files, then the user's `<config dir>/hosts/*.toml`.

A broken file costs only its own host: the problem becomes one line in SpecRegistry.errors, naming
the file and the key, and every other host still loads. A user file with the id of a built-in host
replaces it (a mirror, a changed limit, a fixed protocol) without waiting for a release.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from filehost_tui.errors import ErrorKind
from filehost_tui.hosts.classify import ErrorRule
from filehost_tui.hosts.jsonpath import parse_path
from filehost_tui.hosts.spec import (
    AUTH_KINDS,
    CAPTCHA_KINDS,
    DEFAULT_BASE,
    ID_PATTERN,
    METHODS,
    PLACEMENTS,
    Auth,
    Captcha,
    Condition,
    Extract,
    HostSpec,
    Poll,
    ResultSpec,
    SpecRegistry,
    Step,
)
from filehost_tui.hosts.spec_checks import check_spec
from filehost_tui.hosts.spec_lines import key_line
from filehost_tui.hosts.spec_reader import SpecError, TableReader, join

_ID = re.compile(ID_PATTERN)
_BASE_URL = re.compile(r"^https?://[^/\s?#]+(/[^\s?#]*)?$")
_KINDS = ", ".join(k.value for k in ErrorKind)


def _regex(value: str | None, key: str) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise SpecError(key, f"bad regex {value!r}: {exc}") from None
    return value


def _json_path(value: str | None, key: str) -> str | None:
    if value is not None:
        try:
            parse_path(value)
        except ValueError as exc:
            raise SpecError(key, str(exc)) from None
    return value


def _captcha(t: TableReader) -> Captcha:
    kind = t.take("kind", str)
    if kind not in CAPTCHA_KINDS:
        raise SpecError(t.key("kind"), f"must be one of {', '.join(CAPTCHA_KINDS)}")
    captcha = Captcha(
        kind=kind,
        length=t.take("length", int),
        within=_regex(t.take("within", str, None), t.key("within")),
    )
    t.finish()
    if captcha.length < 1:
        raise SpecError(t.key("length"), "must be at least 1")
    return captcha


def _extract(data: Any, where: str) -> Extract:
    t = TableReader(data, where)
    captcha = t.sub("captcha", None)
    ex = Extract(
        json=_json_path(t.take("json", str, None), t.key("json")),
        regex=_regex(t.take("regex", str, None), t.key("regex")),
        header=t.take("header", str, None),
        cookie=t.take("cookie", str, None),
        body=t.take("body", bool, False),
        html=t.take("html", bool, False),
        optional=t.take("optional", bool, False),
        captcha=_captcha(captcha) if captcha is not None else None,
    )
    t.finish()
    sources = [s for s in (ex.json, ex.header, ex.cookie, ex.captcha) if s is not None] + (
        [1] if ex.body else []
    )
    if len(sources) > 1 or (not sources and ex.regex is None):
        raise SpecError(
            where, "needs exactly one of json, header, cookie, body, captcha (or regex alone)"
        )
    if ex.captcha is not None and (ex.regex is not None or ex.html):
        raise SpecError(where, "a captcha reads the page itself; narrow it with captcha.within")
    return ex


def _condition(data: Any, where: str) -> Condition:
    t = TableReader(data, where)

    def texts(name: str) -> tuple[str, ...]:
        values = t.take(name, list, [])
        if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
            raise SpecError(t.key(name), "must be a list of strings or integers")
        return tuple(str(v) for v in values)

    cond = Condition(
        json=_json_path(t.take("json", str, None), t.key("json")),
        regex=_regex(t.take("regex", str, None), t.key("regex")),
        equals=texts("equals"),
        not_equals=texts("not_equals"),
    )
    t.finish()
    if (cond.json is None) == (cond.regex is None):
        raise SpecError(where, "needs exactly one of json or regex")
    return cond


def _error_rules(data: Any, where: str) -> tuple[ErrorRule, ...]:
    if not isinstance(data, list):
        raise SpecError(where, "must be a list of tables ([[errors]])")
    rules = []
    for i, item in enumerate(data):
        t = TableReader(item, f"{where}[{i}]")
        kind = t.take("kind", str)
        if kind not in {k.value for k in ErrorKind}:
            raise SpecError(t.key("kind"), f"unknown error kind {kind!r} (known: {_KINDS})")
        rule = ErrorRule(
            kind=ErrorKind(kind),
            status=t.take("status", int, None),
            body_regex=_regex(t.take("body_regex", str, None), t.key("body_regex")),
            retry_after=t.take("retry_after", float, None),
            message=t.take("message", str, None),
        )
        t.finish()
        _check_message_groups(rule, t.key("message"))
        rules.append(rule)
    return tuple(rules)


def _check_message_groups(rule: ErrorRule, key: str) -> None:
    """Every "{name}" in a rule's message must be a named group of its body_regex."""
    groups = set(re.compile(rule.body_regex).groupindex) if rule.body_regex else set()
    for name in re.findall(r"\{(\w+)\}", rule.message or ""):
        if name not in groups:
            raise SpecError(key, f"{{{name}}} is not a named group (?P<{name}>...) of body_regex")


def _step(data: Any, where: str, default_name: str) -> Step:
    t = TableReader(data, where)
    method = t.take("method", str, "GET").upper()
    if method not in METHODS:
        raise SpecError(t.key("method"), f"must be one of {', '.join(METHODS)}")
    body = t.take("body", str, None)
    if body not in (None, "file"):
        raise SpecError(t.key("body"), 'the only supported value is "file" (raw file body)')
    poll = t.sub("poll", None)
    finish_if = t.take("finish_if", dict, None)
    step = Step(
        name=t.take("name", str, default_name),
        url=t.take("url", str),
        method=method,
        base=t.take("base", str, DEFAULT_BASE),
        params=t.string_table("params"),
        headers=t.string_table("headers"),
        form=t.string_table("form"),
        json=t.take("json", dict, None),
        file_field=t.take("file_field", str, None),
        filename=t.take("filename", str, "{name}"),
        fields=t.string_table("fields"),
        form_from=t.take("form_from", str, None),
        body_file=body == "file",
        auth=t.take("auth", bool, True),
        expect_redirect=t.take("expect_redirect", bool, False),
        extract={
            name: _extract(value, join(t.key("extract"), name))
            for name, value in t.take("extract", dict, {}).items()
        },
        errors=_error_rules(t.take("errors", list, []), t.key("errors")),
        finish_if=_condition(finish_if, t.key("finish_if")) if finish_if is not None else None,
        poll=_poll(poll) if poll is not None else None,
    )
    t.finish()
    if step.file_field is not None and step.body_file:
        raise SpecError(t.key("body"), "a step sends the file either as file_field or as body")
    if step.sends_file and method == "GET":
        raise SpecError(t.key("method"), "a step that sends the file must use POST or PUT")
    if sum(bool(x) for x in (step.form, step.json is not None, step.sends_file)) > 1:
        raise SpecError(where, "a step has one body: form, json, file_field or body")
    return step


def _poll(t: TableReader) -> Poll:
    poll = Poll(
        until=_condition(t.take("until", dict), t.key("until")),
        interval=t.take("interval", float, 2.0),
        timeout=t.take("timeout", float, 600.0),
    )
    t.finish()
    if poll.interval <= 0 or poll.timeout <= 0:
        raise SpecError(t.where, "interval and timeout must be positive")
    return poll


def _auth(t: TableReader | None) -> Auth:
    if t is None:
        return Auth()
    kind = t.take("kind", str)
    if kind not in AUTH_KINDS:
        raise SpecError(t.key("kind"), f"must be one of {', '.join(AUTH_KINDS)}")
    placement = t.take("in", str, None)
    if placement is not None and placement not in PLACEMENTS:
        raise SpecError(t.key("in"), f"must be one of {', '.join(PLACEMENTS)}")
    login = t.take("login", dict, None)
    before_login = t.take("before_login", list, [])
    auth = Auth(
        kind=kind,
        credential=t.take("credential", str, None),
        placement=placement,
        name=t.take("name", str, None),
        format=t.take("format", str, None),
        login=_step(login, t.key("login"), "login") if login is not None else None,
        ttl=t.take("ttl", float, 3600.0),
        stale_patterns=t.strings("stale_patterns", ()),
        cookie_name=t.take("cookie_name", str, None),
        before_login=tuple(
            _step(s, f"{t.key('before_login')}[{i}]", f"before_login{i + 1}")
            for i, s in enumerate(before_login)
        ),
    )
    for i, pattern in enumerate(auth.stale_patterns):
        _regex(pattern, f"{t.key('stale_patterns')}[{i}]")
    t.finish()
    return auth


def _result(t: TableReader) -> ResultSpec:
    result = ResultSpec(url=t.take("url", str), file_id=t.take("file_id", str, None))
    t.finish()
    return result


def parse_spec(data: dict[str, Any], *, source: Path | None, builtin: bool) -> HostSpec:
    """Build and check one HostSpec from a parsed TOML document; raises SpecError."""
    t = TableReader(data, "")
    host_id = t.take("id", str)
    if not _ID.match(host_id):
        raise SpecError("id", "use lower-case letters, digits, '.', '_' or '-'")
    name, family = t.take("name", str), t.take("family", str)
    base_url = t.take("base_url", str, None)
    bases = t.string_table("bases")
    for key, url in [("base_url", base_url), *((f"bases.{k}", v) for k, v in bases.items())]:
        if url is not None and not _BASE_URL.match(url):
            raise SpecError(key, f"{url!r} is not an http(s) URL without query")
    if DEFAULT_BASE in bases:
        raise SpecError(f"bases.{DEFAULT_BASE}", "set base_url at the top level instead")
    steps_data = t.take("steps", list)
    account_data = t.take("account", list, [])
    spec = HostSpec(
        id=host_id,
        name=name,
        family=family,
        docs=t.take("docs", str, None),
        credential_fields=t.strings("credential_fields", ()),
        required_credentials=t.strings("required_credentials", ()),
        base_url=base_url.rstrip("/") if base_url else None,
        bases={k: v.rstrip("/") for k, v in bases.items()},
        max_file_size=t.take("max_file_size", int, None),
        max_connections=t.take("max_connections", int, 2),
        auth=_auth(t.sub("auth", None)),
        steps=tuple(_step(s, f"steps[{i}]", f"step{i + 1}") for i, s in enumerate(steps_data)),
        account=tuple(
            _step(s, f"account[{i}]", f"account{i + 1}") for i, s in enumerate(account_data)
        ),
        errors=_error_rules(t.take("errors", list, []), "errors"),
        result=_result(t.sub("result")),
        source=source,
        builtin=builtin,
    )
    t.finish()
    check_spec(spec)
    return spec


def load_spec_file(path: Path, *, builtin: bool = False) -> HostSpec:
    """One spec file; raises SpecError with a one-line message naming the file, line and key."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError("", f"{path}: cannot read ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError("", f"{path}: invalid TOML: {exc}") from None
    try:
        return parse_spec(data, source=path, builtin=builtin)
    except SpecError as exc:
        line = key_line(text, exc.key)
        raise SpecError("", f"{path}{f':{line}' if line else ''}: {exc}") from None


def builtin_spec_files() -> list[Path]:
    folder = resources.files("filehost_tui.hosts") / "specs"
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".toml"))


def load_specs(user_hosts_dir: Path | None) -> SpecRegistry:
    """Built-in specs, then user specs (same id overrides); errors collected, never raised."""
    specs: dict[str, HostSpec] = {}
    errors: list[str] = []
    user_files = sorted(user_hosts_dir.glob("*.toml")) if user_hosts_dir is not None else []
    if user_hosts_dir is not None and user_hosts_dir.exists() and not user_hosts_dir.is_dir():
        errors.append(f"{user_hosts_dir}: not a directory; user host specs ignored")
        user_files = []
    user_ids: dict[str, Path] = {}
    for path, builtin in [(p, True) for p in builtin_spec_files()] + [
        (p, False) for p in user_files
    ]:
        try:
            spec = load_spec_file(path, builtin=builtin)
        except SpecError as exc:
            errors.append(str(exc).replace("\n", " "))
            continue
        if not builtin and spec.id in user_ids:
            errors.append(f"{path}: id: {spec.id!r} is already defined by {user_ids[spec.id]}")
            continue
        if not builtin:
            user_ids[spec.id] = path
        specs[spec.id] = spec
    return SpecRegistry(specs=dict(sorted(specs.items())), errors=errors)
