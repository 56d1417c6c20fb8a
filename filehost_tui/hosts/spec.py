"""Host specs: a host's protocol as data (docs/host-specs.md, 'Key reference').

One frozen tree per host, built by spec_loader from a TOML file and run by the interpreter in
client.py. Nothing here knows about a particular host: a new host is a new file, not new code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filehost_tui.errors import UserError
from filehost_tui.hosts.classify import ErrorRule

DEFAULT_BASE = "base_url"
ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
METHODS = ("GET", "POST", "PUT")
AUTH_KINDS = ("none", "api_key", "login", "session_cookie")
PLACEMENTS = ("query", "header", "json", "form", "basic")
CAPTCHA_KINDS = ("positioned_digits",)
TOKEN_VAR = "token"


@dataclass(frozen=True)
class Captcha:
    """A captcha the host draws in its HTML, answered by reading it (no OCR, no guessing).

    `kind = "positioned_digits"`: each digit is a `<span>` placed with `padding-left: Npx`
    (as a character or an entity such as `&#55;`); the answer is the digits ordered by offset.
    `length` is how many digits the code has: fewer or more found, two at one offset, or a placed
    span without a digit fail the step. `within` (a regex; `.` matches newlines) narrows the search
    to part of the page (group 1 when it has a group), for pages with other offset spans.
    """

    kind: str
    length: int
    within: str | None = None


@dataclass(frozen=True)
class Extract:
    """Where a variable's value is read from in a reply.

    Exactly one source (`json` path, `header`, `cookie` from Set-Cookie, the whole `body`, or the
    answer to a `captcha` drawn in the page); `regex` alone searches the body, and after another
    source (not `captcha`) it narrows that value (group 1 when the pattern has a group). `html`
    unescapes entities (an action URL scraped from a page). `optional` values may be missing
    without failing the step.
    """

    json: str | None = None
    regex: str | None = None
    header: str | None = None
    cookie: str | None = None
    body: bool = False
    html: bool = False
    optional: bool = False
    captcha: Captcha | None = None


@dataclass(frozen=True)
class Condition:
    """A test on a reply: the value at `json` (or the first match of `regex`) is one of `equals`
    (or, with `not_equals`, none of them). With neither list, "exists and is not empty"."""

    json: str | None = None
    regex: str | None = None
    equals: tuple[str, ...] = ()
    not_equals: tuple[str, ...] = ()


@dataclass(frozen=True)
class Poll:
    """Repeat a step until `until` holds; give up with a timeout error after `timeout` seconds."""

    until: Condition
    interval: float = 2.0
    timeout: float = 600.0


@dataclass(frozen=True)
class Step:
    """One HTTP request of a flow, with what to read from its reply.

    `url` starts with "/" (relative to the named `base`) or with a variable (a URL a previous
    reply handed out). A step with `file_field` sends the file as multipart; with `body_file` it
    sends the file as the raw body (PUT/POST). Every string value is a template.
    """

    name: str
    url: str
    method: str = "GET"
    base: str = DEFAULT_BASE
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    file_field: str | None = None
    filename: str = "{name}"
    fields: dict[str, str] = field(default_factory=dict)
    form_from: str | None = None
    body_file: bool = False
    auth: bool = True
    # The step's normal answer is a 3xx (read as it is, never followed); elsewhere a 3xx is a failure.
    expect_redirect: bool = False
    extract: dict[str, Extract] = field(default_factory=dict)
    errors: tuple[ErrorRule, ...] = ()
    finish_if: Condition | None = None
    poll: Poll | None = None

    @property
    def sends_file(self) -> bool:
        return self.file_field is not None or self.body_file


@dataclass(frozen=True)
class Auth:
    """How a host knows who uploads.

    - none: nothing sent.
    - api_key: the `credential` field is sent as `placement` (query/header/json/form field `name`,
      or HTTP basic password) on every step with auth; `format` shapes it ("Bearer {api_key}").
      It is skipped when the credential is optional and absent.
    - login: the `login` step runs once per `ttl` (shared by the host's workers) and extracts
      `token`; steps use "{token}" or a placement. A reply matching `stale_patterns` causes one
      re-login and one retry.
    - session_cookie: like login, but the token is the `cookie_name` cookie of the login reply and
      it is sent back as a Cookie header.

    `before_login` steps run, in order and without credentials placed, before every login; what
    they extract (a login form's hidden fields, a captcha's answer) the login step may use.
    """

    kind: str = "none"
    credential: str | None = None
    placement: str | None = None
    name: str | None = None
    format: str | None = None
    login: Step | None = None
    ttl: float = 3600.0
    stale_patterns: tuple[str, ...] = ()
    cookie_name: str | None = None
    before_login: tuple[Step, ...] = ()


@dataclass(frozen=True)
class ResultSpec:
    """Templates for the link and file id, over the variables the steps extracted."""

    url: str
    file_id: str | None = None


@dataclass(frozen=True)
class HostSpec:
    id: str
    name: str
    family: str
    credential_fields: tuple[str, ...]
    required_credentials: tuple[str, ...]
    base_url: str | None
    bases: dict[str, str]
    max_file_size: int | None
    max_connections: int
    auth: Auth
    steps: tuple[Step, ...]
    result: ResultSpec
    errors: tuple[ErrorRule, ...] = ()
    account: tuple[Step, ...] = ()
    docs: str | None = None
    source: Path | None = None
    builtin: bool = True


@dataclass(frozen=True)
class SpecRegistry:
    """Every host that loaded, and one line per problem (file and key) for those that did not."""

    specs: dict[str, HostSpec]
    errors: list[str]

    def problem_for(self, host_id: str) -> str | None:
        """The load error of the spec file that likely defined `host_id` (named by its file name
        or its id), if one did not load."""
        wanted = (f"{os.sep}{host_id}.toml:", repr(host_id))
        return next((e for e in self.errors if any(w in e for w in wanted)), None)

    def unknown_host(self, host_id: str) -> UserError:
        """The error for a host id no spec defines: a spec file that did not load is the likely
        reason, so its problem is named rather than only the ids that did load."""
        problem = self.problem_for(host_id)
        if problem is not None:
            return UserError(
                f"unknown host {host_id!r}: its spec did not load: {problem}; "
                "fix that file (see `filehost-tui hosts`)"
            )
        known = ", ".join(sorted(self.specs)) or "none"
        broken = (
            f"; {len(self.errors)} host spec file(s) did not load, see `filehost-tui hosts`"
            if self.errors
            else ""
        )
        return UserError(f"unknown host {host_id!r}; known hosts: {known}{broken}")
