"""Cross-checks of a parsed spec: bases exist, URLs are relative to a base or to a variable, auth is
complete, and every template only uses variables defined by then.

"Defined by then" follows the flow: credentials and built-ins first, then what each earlier step
extracts. So "{upload_url}" in a step before the step that extracts it is an error at load time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from filehost_tui.hosts.spec import DEFAULT_BASE, TOKEN_VAR, HostSpec, Step
from filehost_tui.hosts.spec_reader import SpecError, join
from filehost_tui.hosts.template import variables

FILE_VARS = frozenset({"name", "size", "md5"})
"""Variables about the file being uploaded (not available to login or account steps)."""


def builtin_vars(spec: HostSpec) -> set[str]:
    names = {"base", "scheme", *(f"base_{b}" for b in spec.bases), *spec.credential_fields}
    if spec.auth.kind in ("login", "session_cookie"):
        names.add(TOKEN_VAR)
    return names


def _check_template(template: str, defined: set[str], key: str) -> None:
    try:
        used = variables(template)
    except ValueError as exc:
        raise SpecError(key, str(exc)) from None
    missing = sorted(used - defined)
    if missing:
        raise SpecError(key, f"template {template!r} uses undefined variable {{{missing[0]}}}")


def _json_templates(value: Any, key: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield value, key
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _json_templates(v, join(key, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _json_templates(v, f"{key}[{i}]")


def step_templates(step: Step, where: str = "") -> Iterable[tuple[str, str]]:
    yield step.url, join(where, "url")
    for table_name in ("params", "headers", "form", "fields"):
        for k, v in getattr(step, table_name).items():
            yield v, join(join(where, table_name), k)
    if step.json is not None:
        yield from _json_templates(step.json, join(where, "json"))
    if step.file_field is not None:
        yield step.file_field, join(where, "file_field")
        yield step.filename, join(where, "filename")


def step_variables(step: Step) -> set[str]:
    """Every variable a step's templates use (e.g. to know whether it needs the file's MD5)."""
    return {name for template, _ in step_templates(step) for name in variables(template)}


def _check_step(spec: HostSpec, step: Step, where: str, defined: set[str]) -> None:
    if step.base != DEFAULT_BASE and step.base not in spec.bases:
        known = ", ".join([DEFAULT_BASE, *spec.bases])
        raise SpecError(join(where, "base"), f"unknown base {step.base!r} (known: {known})")
    if not step.url.startswith(("/", "{")):
        raise SpecError(
            join(where, "url"),
            f"{step.url!r} must start with '/' (relative to a base) or a {{variable}} from a reply",
        )
    for template, key in step_templates(step, where):
        _check_template(template, defined, key)
    if step.form_from is not None and step.form_from not in defined:
        raise SpecError(join(where, "form_from"), f"undefined variable {step.form_from!r}")
    if step.form_from is not None and step.file_field is None:
        raise SpecError(
            join(where, "form_from"), "only a multipart (file_field) step echoes a form"
        )
    placement = spec.auth.placement if step.auth and not where.startswith("auth.") else None
    if placement == "json" and step.json is None:
        raise SpecError(where, "auth.in = json but this step sends no JSON body; set auth = false")
    if placement == "form" and not (step.form or step.file_field):
        raise SpecError(where, "auth.in = form but this step sends no form; set auth = false")


def _check_auth(spec: HostSpec) -> None:
    auth = spec.auth
    for field in spec.required_credentials:
        if field not in spec.credential_fields:
            raise SpecError("required_credentials", f"{field!r} is not in credential_fields")
    if auth.kind == "api_key":
        if auth.credential not in spec.credential_fields:
            raise SpecError("auth.credential", "must name one of credential_fields")
        if auth.placement is None:
            raise SpecError("auth.in", "api_key auth needs in = query|header|json|form|basic")
    if (
        auth.kind in ("api_key", "login")
        and auth.placement not in (None, "basic")
        and not auth.name
    ):
        raise SpecError("auth.name", f"auth.in = {auth.placement} needs the parameter name")
    if auth.kind in ("login", "session_cookie"):
        if auth.login is None:
            raise SpecError("auth.login", f"{auth.kind} auth needs a [auth.login] step")
        if TOKEN_VAR in spec.credential_fields:
            raise SpecError("credential_fields", f"{TOKEN_VAR!r} is the login token's name here")
        defined = builtin_vars(spec) - {TOKEN_VAR}
        for i, step in enumerate(auth.before_login):
            _check_step(spec, step, f"auth.before_login[{i}]", defined)
            defined |= set(step.extract)
        _check_step(spec, auth.login, "auth.login", defined)
    if auth.kind == "login" and (auth.login is None or TOKEN_VAR not in auth.login.extract):
        raise SpecError("auth.login.extract", f"login auth must extract {TOKEN_VAR!r}")
    if auth.before_login and auth.kind not in ("login", "session_cookie"):
        raise SpecError("auth.before_login", "only login and session_cookie auth log in")
    if any(step.sends_file for step in auth.before_login):
        raise SpecError("auth.before_login", "a step before the login cannot send the file")
    if auth.kind == "session_cookie" and not auth.cookie_name:
        raise SpecError("auth.cookie_name", "session_cookie auth needs the cookie's name")
    if auth.format is not None:
        allowed = builtin_vars(spec)
        _check_template(auth.format, allowed, "auth.format")


def check_spec(spec: HostSpec) -> None:
    """Raise SpecError for the first inconsistency found."""
    if not spec.steps:
        raise SpecError("steps", "a host needs at least one step")
    if not any(step.sends_file for step in spec.steps):
        raise SpecError("steps", 'no step sends the file (file_field or body = "file")')
    if spec.max_connections < 1:
        raise SpecError("max_connections", "must be at least 1")
    _check_auth(spec)
    defined = builtin_vars(spec) | FILE_VARS
    for i, step in enumerate(spec.steps):
        _check_step(spec, step, f"steps[{i}]", defined)
        defined |= set(step.extract)
    _check_template(spec.result.url, defined, "result.url")
    if spec.result.file_id is not None:
        _check_template(spec.result.file_id, defined, "result.file_id")
    defined = builtin_vars(spec)
    for i, step in enumerate(spec.account):
        _check_step(spec, step, f"account[{i}]", defined)
        defined |= set(step.extract)
