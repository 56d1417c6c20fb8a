"""The two halves of running one spec step: build the request from templates, read the reply.

Pure functions over (step, variables, reply) so the interpreter in client.py stays about order,
authentication and retries.
"""

from __future__ import annotations

import html
import re
import unicodedata
from base64 import b64encode
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.hosts.captcha import CaptchaUnreadable, read_captcha
from filehost_tui.hosts.jsonpath import lookup, parse_path
from filehost_tui.hosts.spec import Condition, Extract, ResultSpec, Step
from filehost_tui.hosts.template import MissingVariable, as_text, render
from filehost_tui.hosts.wire import Body, FieldPart, FilePart, Response, excerpt
from filehost_tui.redact import register_secret


@dataclass(frozen=True)
class AuthPlacement:
    """Where the credential or token goes on a request: query, header, json, form or basic."""

    placement: str
    name: str
    value: str


@dataclass
class Prepared:
    """Keyword arguments for Transfer.request, plus the method and URL."""

    method: str
    url: str
    kwargs: dict[str, Any] = field(default_factory=dict)


_parse = lru_cache(maxsize=512)(parse_path)


def _render(template: str, values: dict[str, Any], step: Step) -> str:
    try:
        return render(template, values)
    except MissingVariable as exc:
        raise UploadError(
            ErrorKind.BAD_RESPONSE,
            f"{step.name}: no value for {{{exc.name}}} in the host's replies",
        ) from None


def _render_json(value: Any, values: dict[str, Any], step: Step) -> Any:
    if isinstance(value, str):
        return _render(value, values, step)
    if isinstance(value, dict):
        return {k: _render_json(v, values, step) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_json(v, values, step) for v in value]
    return value


def step_url(step: Step, values: dict[str, Any], bases: dict[str, str]) -> str:
    """Absolute URL: a base plus the path, or a URL some reply handed out."""
    rendered = _render(step.url, values, step)
    if step.url.startswith("/"):
        return bases[step.base] + rendered
    if not re.match(r"^https?://[^/\s]+", rendered):
        raise UploadError(ErrorKind.BAD_RESPONSE, f"{step.name}: the host gave no usable URL")
    return rendered


def prepare(
    step: Step,
    values: dict[str, Any],
    bases: dict[str, str],
    path: Body | None,
    auth: AuthPlacement | None,
) -> Prepared:
    """The request a step makes with the current variables and credential placement."""
    params = {k: _render(v, values, step) for k, v in step.params.items()}
    headers = {k: _render(v, values, step) for k, v in step.headers.items()}
    form = {k: _render(v, values, step) for k, v in step.form.items()}
    json_body = _render_json(step.json, values, step) if step.json is not None else None
    fields = [FieldPart(k, _render(v, values, step)) for k, v in step.fields.items()]
    kw: dict[str, Any] = {}
    if auth is not None:
        where = {"query": params, "header": headers, "json": json_body, "form": form}
        if auth.placement == "basic":
            kw["basic_auth"] = (auth.name, auth.value)
            # the header carries base64("name:value"): a reply that echoes it must be masked too
            register_secret(b64encode(f"{auth.name}:{auth.value}".encode()).decode())
        elif auth.placement == "form" and step.file_field is not None:
            fields.append(FieldPart(auth.name, auth.value))
        elif where.get(auth.placement) is not None:
            where[auth.placement][auth.name] = auth.value
    if step.form_from is not None:
        echoed = values.get(step.form_from)
        if not isinstance(echoed, dict):
            raise UploadError(ErrorKind.BAD_RESPONSE, f"{step.name}: no form data in the reply")
        fields.extend(FieldPart(str(k), as_text(v)) for k, v in echoed.items())
    if params:
        kw["params"] = params
    if headers:
        kw["headers"] = headers
    if form:
        kw["form"] = form
    if json_body is not None:
        kw["json_body"] = json_body
    if step.file_field is not None and path is not None:
        name = _render(step.file_field, values, step)
        filename = _render(step.filename, values, step)
        kw["multipart"] = [*fields, FilePart(name, path, filename)]
    elif step.body_file and path is not None:
        kw["body_file"] = path
    return Prepared(step.method, step_url(step, values, bases), kw)


def set_cookie(resp: Response, name: str) -> str | None:
    """The value of cookie `name` from the reply's Set-Cookie headers (last one wins)."""
    found = None
    items = resp.header_items or tuple(resp.headers.items())
    for header, value in items:
        if header == "set-cookie":
            cookie, _, rest = value.partition(";")
            key, eq, val = cookie.partition("=")
            if eq and key.strip() == name:
                found = val.strip().strip('"')
    return found or None


def _search(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text)
    if match is None:
        return None
    return match.group(1) if match.re.groups else match.group(0)


def extract_value(ex: Extract, resp: Response) -> Any:
    """The value an Extract describes, or None if the reply does not have it.

    A captcha that is there but cannot be read raises CaptchaUnreadable, even if optional: a guess
    is worse than no login (hosts lock accounts after a few wrong answers)."""
    if ex.captcha is not None:
        try:
            return read_captcha(ex.captcha, resp.text())
        except CaptchaUnreadable as exc:
            if exc.absent and ex.optional:
                return None
            raise
    if ex.json is not None:
        value = lookup(resp.json(), _parse(ex.json))
    elif ex.header is not None:
        value = resp.headers.get(ex.header.lower())
    elif ex.cookie is not None:
        value = set_cookie(resp, ex.cookie)
    else:
        value = resp.text()
        if ex.regex is None:
            value = value.strip()
    if ex.regex is not None and value is not None:
        value = None if isinstance(value, dict | list) else _search(ex.regex, as_text(value))
    if ex.html and isinstance(value, str):
        value = html.unescape(value)
    return None if value == "" else value


def extract_all(step: Step, resp: Response) -> dict[str, Any]:
    """Every variable the step extracts; a required one missing is a bad reply."""
    values: dict[str, Any] = {}
    for name, ex in step.extract.items():
        try:
            value = extract_value(ex, resp)
        except CaptchaUnreadable as exc:
            raise UploadError(ErrorKind.BAD_RESPONSE, f"{step.name}: {name}: {exc}") from None
        if value is None and not ex.optional:
            raise UploadError(
                ErrorKind.BAD_RESPONSE,
                f"{step.name}: reply has no {name} (HTTP {resp.status}: {excerpt(resp.text(), 80)!r})",
            )
        if value is not None:
            values[name] = value
    return values


def holds(cond: Condition, resp: Response) -> bool:
    """Whether a condition is true of a reply (missing values are never `equals` anything)."""
    if cond.json is not None:
        value = lookup(resp.json(), _parse(cond.json))
    else:
        value = _search(cond.regex or "", resp.text())
    text = None if value is None else as_text(value)
    if cond.equals:
        return text in cond.equals
    if cond.not_equals:
        return text not in cond.not_equals
    return bool(text)


# Control characters (Cc), format characters (Cf: the bidi overrides that reorder what a terminal
# shows) and every kind of space: none belongs in a link or an id, and each can forge output.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def _unsafe(text: str) -> bool:
    return any(unicodedata.category(char) in _UNSAFE_CATEGORIES for char in text)


def read_result(result: ResultSpec, values: dict[str, Any], host: str) -> tuple[str, str | None]:
    """The link and file id the replies gave, checked once for every spec.

    Both are stored and later printed in `links`, `status` and the TUI, pasted into forums and
    opened in browsers, so anything but a plain http(s) URL and a plain id is a bad reply, never
    a link: a host (or someone in between) could otherwise send escape sequences to a terminal
    or a `javascript:` link to a forum.
    """
    try:
        url = render(result.url, values)
    except KeyError:
        url = ""
    if not url:
        raise UploadError(ErrorKind.BAD_RESPONSE, f"{host} replied without a link")
    if not re.match(r"(?i)https?://[^/?#]", url) or _unsafe(url):
        raise UploadError(
            ErrorKind.BAD_RESPONSE,
            f'{host} replied with "{excerpt(url)}", which is not a plain http(s) link',
        )
    file_id = None
    if result.file_id is not None:
        try:
            file_id = render(result.file_id, values) or None
        except KeyError:
            file_id = None
    if file_id is not None and _unsafe(file_id):
        raise UploadError(
            ErrorKind.BAD_RESPONSE,
            f'{host} replied with the file id "{excerpt(file_id)}", which is not plain text',
        )
    return url, file_id
