"""Every key of a host spec file, with its type, default and meaning, as data.

The key tables of docs/host-specs.md and the JSON Schema docs/host-spec.schema.json are generated
from this one list (spec_reference.py), and tests hold the list to the loader (the keys it accepts
in each table) and to the dataclasses in spec.py (fields and defaults). So a key added to the
loader and not described here fails a test, and the reference cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from filehost_tui.errors import ErrorKind
from filehost_tui.hosts import spec

REQUIRED: Any = object()


@dataclass(frozen=True)
class Key:
    """One key. `kind`: string, boolean, integer, number, list of strings, list of strings or
    integers, table of strings, any table, or (naming the table in `of`) table, list of tables,
    table of tables."""

    name: str
    kind: str
    text: str
    default: Any = None  # REQUIRED, None (not set) or the value the loader uses when absent
    attr: str | None = ""  # the dataclass field it fills; "" = same as name, None = none
    of: str | None = None  # for table kinds: the table it holds
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    shown_default: str | None = None  # when the default is computed, how the docs say it

    @property
    def field(self) -> str | None:
        return self.name if self.attr == "" else self.attr


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    where: str  # where it appears in a spec file
    text: str
    keys: tuple[Key, ...]


def _step_keys() -> tuple[Key, ...]:
    return (
        Key(
            "name",
            "string",
            "Shown in traces and error messages.",
            shown_default='"step1", "step2"… ("login", "account1"…)',
        ),
        Key(
            "url",
            "string",
            "A path starting with `/`, appended to the step's base, or a "
            "template starting with a variable that an earlier reply handed out "
            '(`"{upload_url}"`).',
            REQUIRED,
        ),
        Key("method", "string", "The HTTP method.", "GET", choices=spec.METHODS),
        Key(
            "base",
            "string",
            f"Which base the path is relative to: `{spec.DEFAULT_BASE}` or a name from `[bases]`.",
            spec.DEFAULT_BASE,
        ),
        Key("params", "table of strings", "Query parameters (templates).", {}),
        Key("headers", "table of strings", "Request headers (templates).", {}),
        Key("form", "table of strings", "A URL-encoded form body (templates).", {}),
        Key("json", "any table", "A JSON body; every string in it is a template.", None),
        Key(
            "file_field",
            "string",
            "Send the file as multipart/form-data under this field name (a template).",
            None,
        ),
        Key("filename", "string", "The file name given in the multipart part.", "{name}"),
        Key("fields", "table of strings", "More multipart fields sent before the file.", {}),
        Key(
            "form_from",
            "string",
            "A variable holding a table (extracted from a reply) whose "
            "entries are sent as multipart fields too.",
            None,
        ),
        Key(
            "body",
            "string",
            'With `"file"`, the file is the raw request body (PUT or POST).',
            None,
            attr="body_file",
            choices=("file",),
        ),
        Key(
            "auth",
            "boolean",
            "Put the credential or token on this request as `[auth]` says; "
            "false for requests to a server that must not see it.",
            True,
        ),
        Key(
            "expect_redirect",
            "boolean",
            "This step's protocol answers with a 3xx (a login that sets a cookie and redirects, an "
            "upload that redirects to a result page): the 3xx is judged as the reply. Otherwise a "
            "3xx is a `bad_response` naming its Location. Redirects are never followed.",
            False,
        ),
        Key(
            "extract",
            "table of tables",
            "Variables to read from the reply, by name.",
            {},
            of="extract",
        ),
        Key(
            "errors",
            "list of tables",
            "Error rules tried on this step's replies before the host's.",
            [],
            of="error",
        ),
        Key(
            "finish_if",
            "table",
            "When it holds for this step's reply, the remaining steps are "
            "skipped (e.g. the host already had the file).",
            None,
            of="condition",
        ),
        Key("poll", "table", "Repeat this step until a condition holds.", None, of="poll"),
    )


TABLE_LIST: tuple[Table, ...] = (
    Table(
        "spec",
        "Top level",
        "the file itself",
        "Who the host is, where it lives and what it accepts.",
        (
            Key(
                "id",
                "string",
                "The host's id in commands, config and environment variables. A "
                "user file with a built-in id replaces that host.",
                REQUIRED,
                pattern=spec.ID_PATTERN,
            ),
            Key("name", "string", "The name shown to people.", REQUIRED),
            Key(
                "family",
                "string",
                "The protocol family, for grouping (several hosts may share one).",
                REQUIRED,
            ),
            Key("docs", "string", "Where the host documents its API.", None),
            Key(
                "credential_fields",
                "list of strings",
                "Names of the secrets a user may give "
                "(`login HOST` asks for them); each is a variable in templates.",
                [],
            ),
            Key(
                "required_credentials",
                "list of strings",
                "Those of `credential_fields` an upload cannot do without.",
                [],
            ),
            Key(
                "base_url",
                "string",
                "The server every `/path` is relative to. Without it, "
                "users must set one in config.toml.",
                None,
            ),
            Key(
                "bases",
                "table of strings",
                'More named servers (`base = "upload"` in a step); '
                "each follows an overridden `base_url` unless overridden itself.",
                {},
            ),
            Key(
                "max_file_size",
                "integer",
                "Largest upload in bytes; a larger item is queued as volumes of this size "
                "(or refused at `add`, for a file, with `[limits] split_files = false`).",
                None,
            ),
            Key(
                "max_connections",
                "integer",
                "Uploads to this host at once (config.toml may lower or raise it).",
                2,
            ),
            Key(
                "auth",
                "table",
                "How the host knows who uploads; absent means anonymous.",
                None,
                of="auth",
            ),
            Key(
                "steps",
                "list of tables",
                "The upload, request by request, in order. At least one step sends the file.",
                REQUIRED,
                of="step",
            ),
            Key(
                "account",
                "list of tables",
                "Requests that check the credentials and read account "
                "facts (`hosts --check`, `login`).",
                [],
                of="step",
            ),
            Key(
                "errors",
                "list of tables",
                "Error rules tried on every reply of the host.",
                [],
                of="error",
            ),
            Key("result", "table", "How the link and file id are built.", REQUIRED, of="result"),
        ),
    ),
    Table(
        "auth",
        "Auth",
        "`[auth]`",
        "How credentials reach the host.",
        (
            Key(
                "kind",
                "string",
                "`none`, `api_key` (a credential sent as it is), `login` (a "
                "request that returns a token) or `session_cookie` (a login whose cookie is the "
                "session).",
                REQUIRED,
                choices=spec.AUTH_KINDS,
            ),
            Key("credential", "string", "api_key: which of `credential_fields` is sent.", None),
            Key(
                "in",
                "string",
                "api_key and login: where the value goes: a query parameter, a "
                "header, a field of the JSON body or of the form, or the password of HTTP basic "
                "auth.",
                None,
                attr="placement",
                choices=spec.PLACEMENTS,
            ),
            Key("name", "string", "The parameter, header or field name for `in`.", None),
            Key("format", "string", 'A template for the value, e.g. `"Bearer {api_key}"`.', None),
            Key(
                "login",
                "table",
                "login and session_cookie: the request that logs in. A login must extract `token`.",
                None,
                of="step",
            ),
            Key("ttl", "number", "Seconds a token is reused before logging in again.", 3600.0),
            Key(
                "stale_patterns",
                "list of strings",
                'Regexes that mark a reply as "token no '
                'longer valid": log in again once and resend once.',
                [],
            ),
            Key(
                "cookie_name",
                "string",
                "session_cookie: the cookie that carries the session.",
                None,
            ),
            Key(
                "before_login",
                "list of tables",
                "login and session_cookie: requests sent, in order and without credentials, before "
                "every login; what they extract (a form's hidden fields, a captcha's answer) the "
                "login step may use. They cannot send the file.",
                [],
                of="step",
            ),
        ),
    ),
    Table(
        "step",
        "Step",
        "`[[steps]]`, `[[account]]`, `[auth.login]`",
        "One HTTP request and what to read from its reply. Every string is a template. A step "
        "has at most one body: `form`, `json`, `file_field` or `body`.",
        _step_keys(),
    ),
    Table(
        "extract",
        "Extract",
        "`[steps.extract]`, one table per variable",
        "Where one variable's value comes from. Give one source (`json`, `header`, `cookie` or "
        "`body`), or `regex` alone to search the body.",
        (
            Key("json", "string", "A JSON path into the reply (see 'JSON paths').", None),
            Key(
                "regex",
                "string",
                "Alone: search the body. After another source: narrow its "
                "value. Group 1 is taken when the pattern has a group.",
                None,
            ),
            Key("header", "string", "A reply header (any case).", None),
            Key("cookie", "string", "A cookie set by the reply.", None),
            Key("body", "boolean", "The whole body, trimmed.", False),
            Key(
                "captcha",
                "table",
                "The answer to a captcha drawn in the page (not with `regex` or `html`).",
                None,
                of="captcha",
            ),
            Key("html", "boolean", "Unescape HTML entities (a URL scraped from a page).", False),
            Key(
                "optional",
                "boolean",
                "A missing value is not an error; templates using it fail only when they run.",
                False,
            ),
        ),
    ),
    Table(
        "captcha",
        "Captcha",
        "`captcha` in an extract table",
        "A captcha read from the page's HTML, never guessed: anything the reader cannot place "
        "with certainty fails the step.",
        (
            Key(
                "kind",
                "string",
                "`positioned_digits`: each digit is a `<span>` placed with `padding-left: Npx` "
                "(a character or an entity such as `&#55;`); the answer is the digits ordered by "
                "offset.",
                REQUIRED,
                choices=spec.CAPTCHA_KINDS,
            ),
            Key(
                "length",
                "integer",
                "How many digits the code has; more or fewer found fail the step.",
                REQUIRED,
            ),
            Key(
                "within",
                "string",
                "A regex (`.` matches newlines) narrowing the search to part of the page; group 1 "
                "when it has a group.",
                None,
            ),
        ),
    ),
    Table(
        "condition",
        "Condition",
        "`finish_if`, `poll.until`",
        "A test on a reply. With neither `equals` nor `not_equals`: the value exists and is not "
        "empty.",
        (
            Key("json", "string", "A JSON path to the value tested (one of json or regex).", None),
            Key(
                "regex", "string", "A regex on the body; group 1 (or the match) is the value.", None
            ),
            Key(
                "equals", "list of strings or integers", "Holds when the value is one of these.", []
            ),
            Key(
                "not_equals",
                "list of strings or integers",
                "Holds when the value is none of these.",
                [],
            ),
        ),
    ),
    Table(
        "poll",
        "Poll",
        "`poll` in a step",
        "Asking again until the host has processed the upload.",
        (
            Key("until", "table", "Stop polling when this holds.", REQUIRED, of="condition"),
            Key("interval", "number", "Seconds between requests.", 2.0),
            Key("timeout", "number", "Seconds before giving up with a `timeout` error.", 600.0),
        ),
    ),
    Table(
        "error",
        "Error rule",
        "`[[errors]]`, `errors` in a step",
        "Turns a reply into an error of a kind; the first rule that matches wins. A rule with "
        "neither `status` nor `body_regex` matches every reply.",
        (
            Key(
                "kind",
                "string",
                "The error kind (see 'Error kinds').",
                REQUIRED,
                choices=tuple(k.value for k in ErrorKind),
            ),
            Key("status", "integer", "Match only this HTTP status.", None),
            Key("body_regex", "string", "Match only when this regex is found in the body.", None),
            Key(
                "retry_after",
                "number",
                "Seconds to wait before a retry when the reply has no Retry-After header.",
                None,
            ),
            Key(
                "message", "string", "What the user reads; default: an excerpt of the reply.", None
            ),
        ),
    ),
    Table(
        "result",
        "Result",
        "`[result]`",
        "Built after the last step from every variable extracted. A link that is not http(s) "
        "fails the upload.",
        (
            Key("url", "string", "Template of the link.", REQUIRED),
            Key("file_id", "string", "Template of the host's file id.", None),
        ),
    ),
)

TABLES_BY_ID = {t.id: t for t in TABLE_LIST}
