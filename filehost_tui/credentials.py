"""Credential lookup and storage: environment, then OS keyring, then credentials.toml.

Each field is looked up on its own, in that order, so one environment variable can override a single
stored field. Values come back wrapped in Secret and are registered for redaction, so they cannot
leak through repr, logs or exceptions; no error raised here ever contains a value.

credentials.toml (tables `[<host_id>] field = "value"`) must be private to the user: a file readable
or writable by group or others is refused, as ssh refuses a loose private key.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

import tomli_w

from filehost_tui import keyring_store
from filehost_tui.config import env_key
from filehost_tui.errors import UserError
from filehost_tui.paths import AppPaths
from filehost_tui.redact import register_secret
from filehost_tui.safe_files import atomic_write_private, private_dir
from filehost_tui.secret import Secret

Table = dict[str, dict[str, str]]

# Wrapped in Secret like every field, but not masked in logs: a user name such as "test" would
# otherwise blot out that word in every log line, and it is not what an attacker needs.
NOT_SECRET_FIELDS = frozenset({"username", "user", "login", "email"})

_HEADER = "# filehost-tui credentials: keep this file private (chmod 600). Written by `login`.\n"


def env_names(host_id: str, field: str, field_names: Sequence[str]) -> list[str]:
    """The environment variables that set a field, the first set one winning: its own name, and
    for a host with a single credential called otherwise (Keep2Share's access_token) also
    FILEHOST_TUI_<HOST>_API_KEY, the name a user of several hosts reaches for."""
    names = [env_key(host_id, field.upper())]
    if list(field_names) == [field] and field != "api_key":
        names.append(env_key(host_id, "API_KEY"))
    return names


def env_value(host_id: str, field: str, field_names: Sequence[str]) -> str | None:
    return next(
        (os.environ[n] for n in env_names(host_id, field, field_names) if os.environ.get(n)), None
    )


def _check_private(path: Path, st: os.stat_result) -> None:
    if os.name == "posix" and stat.S_IMODE(st.st_mode) & 0o077:
        raise UserError(f"{path} is readable or writable by other users; run: chmod 600 {path}")


def _parse_error_line(exc: tomllib.TOMLDecodeError) -> str:
    """Where the TOML is broken, without the parser's full message (it may quote the value)."""
    match = re.search(r"line (\d+)", str(exc))
    return f" at line {match.group(1)}" if match else ""


def _validate(path: Path, raw: dict[str, object]) -> Table:
    table: Table = {}
    for host_id, fields in raw.items():
        if not isinstance(fields, dict):
            raise UserError(f'{path}: {host_id} must be a table [{host_id}] of field = "value"')
        for name, value in fields.items():
            if not isinstance(value, str):
                raise UserError(f"{path}: {host_id}.{name} must be a quoted string")
        table[host_id] = dict(fields)
    return table


def read_credentials_file(path: Path, *, check_permissions: bool = True) -> Table:
    """All hosts' fields from credentials.toml; a missing file means none."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UserError(
            f"{path}: cannot read ({exc.__class__.__name__}); check its owner and permissions"
        ) from None
    with os.fdopen(fd, "rb") as handle:
        if check_permissions:
            _check_private(path, os.fstat(handle.fileno()))
        data = handle.read()
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; fix or remove the file") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(
            f"{path}: invalid TOML{_parse_error_line(exc)}; fix the file, or move it aside and run `login` again"
        ) from None
    return _validate(path, raw)


def render_credentials(table: Table) -> str:
    """credentials.toml text for `table` (hosts and fields in sorted order, stable diffs)."""
    ordered = {
        host_id: {k: table[host_id][k] for k in sorted(table[host_id])}
        for host_id in sorted(table)
        if table[host_id]
    }
    return _HEADER + "\n" + tomli_w.dumps(ordered)


def _write_file(paths: AppPaths, table: Table) -> None:
    path = paths.credentials_file
    if not any(table.values()):
        path.unlink(missing_ok=True)
        return
    private_dir(path.parent)
    atomic_write_private(path, render_credentials(table).encode("utf-8"))


def _lookup(
    host_id: str, field_names: Sequence[str], paths: AppPaths
) -> dict[str, tuple[str, str]]:
    """field -> (value, source) for the fields found; the file is read only if still needed."""
    found: dict[str, tuple[str, str]] = {}
    for name in field_names:
        value = env_value(host_id, name, field_names)
        if value:
            found[name] = (value, "env")
    missing = [n for n in field_names if n not in found]
    if missing:
        for name, value in keyring_store.get_many(host_id, missing).items():
            found[name] = (value, "keyring")
    missing = [n for n in field_names if n not in found]
    if missing:
        stored = read_credentials_file(paths.credentials_file).get(host_id, {})
        for name in missing:
            if stored.get(name):
                found[name] = (stored[name], "file")
    return found


def lookup_credentials(
    host_id: str, field_names: Sequence[str], paths: AppPaths
) -> dict[str, Secret]:
    """The credential fields found for a host; missing fields are simply absent.

    Raises UserError if credentials.toml is needed but not private or not valid.
    """
    found = _lookup(host_id, field_names, paths)
    for name, (value, _source) in found.items():
        if name not in NOT_SECRET_FIELDS:
            register_secret(value)
    return {name: Secret(value) for name, (value, _source) in found.items()}


def credential_state(
    host_id: str, field_names: Sequence[str], required: Sequence[str], paths: AppPaths
) -> str:
    """Where a host's credentials come from, for `hosts`: never a value.

    "missing" if a required field is absent; "none" if the host has no fields set and needs none;
    otherwise the sources in lookup order, e.g. "env", "keyring", "file" or "env+file".
    """
    found = _lookup(host_id, list(dict.fromkeys([*field_names, *required])), paths)
    if any(name not in found for name in required):
        return "missing"
    sources = {source for _value, source in found.values()}
    ordered = [s for s in ("env", "keyring", "file") if s in sources]
    return "+".join(ordered) if ordered else "none"


def store_credentials(
    host_id: str, values: Mapping[str, str], paths: AppPaths, *, prefer_keyring: bool = True
) -> str:
    """Save a host's fields; returns where: "keyring" or the credentials file's path.

    Empty values are skipped. With a usable keyring the values go there and any copy of those fields
    in the file is removed (so no stale plaintext stays behind); if the keyring fails part-way, what
    was written to it is undone and the file is used instead. Other hosts' entries are preserved.
    """
    clean = {name: value for name, value in values.items() if value}
    for name, value in clean.items():
        if name not in NOT_SECRET_FIELDS:
            register_secret(value)
    if not clean:
        raise UserError(f"no credentials given for {host_id}; nothing stored")
    path = paths.credentials_file
    if prefer_keyring and keyring_store.set_many(host_id, clean):
        table = read_credentials_file(path, check_permissions=False)
        stale = table.get(host_id, {})
        if any(name in stale for name in clean):
            table[host_id] = {k: v for k, v in stale.items() if k not in clean}
            _write_file(paths, table)
        return "keyring"
    table = read_credentials_file(path, check_permissions=False)
    table[host_id] = {**table.get(host_id, {}), **clean}
    _write_file(paths, table)
    return str(path)


def delete_credentials(host_id: str, field_names: Sequence[str], paths: AppPaths) -> bool:
    """Remove a host's fields from the keyring and the file (`logout`); True if anything was removed.

    Environment variables cannot be removed from here; credential_state still reports them.
    """
    removed = keyring_store.delete_many(host_id, field_names)
    table = read_credentials_file(paths.credentials_file, check_permissions=False)
    stored = table.get(host_id, {})
    if any(name in stored for name in field_names):
        remaining = {k: v for k, v in stored.items() if k not in field_names}
        if remaining:
            table[host_id] = remaining
        else:
            table.pop(host_id)
        _write_file(paths, table)
        removed = True
    return removed
