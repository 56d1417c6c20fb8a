"""config.toml: per-host settings, global limits and link templates.

Errors name the file, line and key, because a user editing TOML over SSH needs to know where to look.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from string import Formatter
from typing import Any
from urllib.parse import urlsplit

import tomli_w

from filehost_tui.errors import UserError


def env_key(host_id: str, suffix: str) -> str:
    """FILEHOST_TUI_<HOST>_<SUFFIX>, HOST upper-cased with non-alphanumerics as '_'."""
    return "FILEHOST_TUI_" + re.sub(r"[^A-Za-z0-9]", "_", host_id).upper() + "_" + suffix


@dataclass(frozen=True)
class HostSettings:
    enabled: bool = True
    base_url: str | None = None
    bases: dict[str, str] = field(default_factory=dict)
    max_connections: int | None = None
    max_retries: int = 5
    retry_delay: float = 2.0
    max_upload_speed: int = 0
    low_speed_limit: int | None = None
    low_speed_time: int | None = None
    max_file_size: int | None = None  # bytes; larger items go up as volumes (as split_size)
    split_size: int | None = None  # bytes per volume for items larger than this


@dataclass(frozen=True)
class Limits:
    max_concurrent: int = 4
    max_upload_speed: int = 0
    keep_archives: bool = False
    split_files: bool = True  # False: a plain file over a host's limit is refused, not cut


@dataclass(frozen=True)
class TuiSettings:
    history_rows: int = 1000
    """Finished uploads the TUI holds besides unfinished and failed ones; older ones are reached
    with the `/` filter or by paging up past the top."""
    theme: str | None = None
    """The Textual theme the TUI starts with; written by the app when the user picks one."""


@dataclass(frozen=True)
class RunnerSettings:
    lease_seconds: float = 30.0
    """How long a claimed upload stays a runner's without a renewal: after a runner dies, its
    uploads go back to the queue this long after its last heartbeat."""


@dataclass(frozen=True)
class Config:
    hosts: dict[str, HostSettings] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    tui: TuiSettings = field(default_factory=TuiSettings)
    runner: RunnerSettings = field(default_factory=RunnerSettings)
    links: dict[str, str] = field(default_factory=dict)
    ca_bundle: str | None = None
    database_url: str | None = None
    """A shared PostgreSQL queue (postgresql://USER@HOST:PORT/DB); None: SQLite under the home."""

    def host(self, host_id: str) -> HostSettings:
        """Settings for a host, with the environment's base URL override applied."""
        settings = self.hosts.get(host_id, HostSettings())
        env_url = os.environ.get(env_key(host_id, "BASE_URL"))
        if env_url:
            settings = replace(settings, base_url=env_url)
        return settings


_TYPES: dict[type, tuple[type, ...]] = {
    bool: (bool,),
    int: (int,),
    float: (int, float),
    str: (str,),
}


def _check_table(table: Any, cls: type, where: str, source: Path, text: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise _error(source, text, where, f"[{where}] must be a table")
    known = {f.name: f for f in fields(cls)}
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise _error(
                source, text, key, f"unknown key {where}.{key} (known: {', '.join(sorted(known))})"
            )
        wanted = _wanted_type(known[key].type)
        if wanted is dict:
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise _error(source, text, key, f"{where}.{key} must be a table of strings")
        elif not isinstance(value, _TYPES[wanted]) or (
            wanted is not bool and isinstance(value, bool)
        ):
            raise _error(source, text, key, f"{where}.{key} must be a {wanted.__name__}")
        if wanted in (int, float) and value < _LEAST.get(key, 0):
            least = _LEAST.get(key, 0)
            raise _error(source, text, key, f"{where}.{key} must be {least} or more, not {value}")
        out[key] = value
    return out


_LEAST = {
    "max_connections": 1,
    "max_concurrent": 1,
    "history_rows": 1,
    "max_file_size": 1,
    "split_size": 1,
    "lease_seconds": 1,
}  # other numbers: 0 or more


def _wanted_type(annotation: Any) -> type:
    """The base type of a dataclass field annotation written as a string ("int | None" -> int)."""
    first = str(annotation).split(" | ")[0].split("[")[0]
    return {"dict": dict, "bool": bool, "float": float, "int": int, "str": str}[first]


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^[ \t]*(\[[ \t]*)?[\"']?{re.escape(key)}[\"']?\s*[=\].]", re.M)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _error(source: Path, text: str, key: str, message: str) -> UserError:
    line = _line_of(text, key.split(".")[-1])
    at = f"{source}:{line}" if line else str(source)
    return UserError(f"{at}: {message}; fix or remove it and run again")


def load_config(path: Path) -> Config:
    """Read config.toml; a missing file means defaults."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            f"{path}: cannot read config ({exc.__class__.__name__}); check its permissions"
        ) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: invalid TOML: {exc}; fix the file and run again") from None

    known = {"hosts", "limits", "links", "ca_bundle", "database_url", "tui", "runner"}
    unknown = set(raw) - known
    if unknown:
        key = sorted(unknown)[0]
        raise _error(path, text, key, f"unknown key {key} (known: {', '.join(sorted(known))})")
    hosts_raw = raw.get("hosts", {})
    if not isinstance(hosts_raw, dict):
        raise _error(path, text, "hosts", "[hosts] must be a table of [hosts.ID] tables")
    hosts = {
        host_id: HostSettings(**_check_table(table, HostSettings, f"hosts.{host_id}", path, text))
        for host_id, table in hosts_raw.items()
    }
    for host_id, settings in hosts.items():
        _check_urls(settings, f"hosts.{host_id}", path, text)
    limits = Limits(**_check_table(raw.get("limits", {}), Limits, "limits", path, text))
    tui = TuiSettings(**_check_table(raw.get("tui", {}), TuiSettings, "tui", path, text))
    runner = RunnerSettings(
        **_check_table(raw.get("runner", {}), RunnerSettings, "runner", path, text)
    )
    links = raw.get("links", {})
    if not isinstance(links, dict) or not all(isinstance(v, str) for v in links.values()):
        raise _error(path, text, "links", "[links] must map a format name to a template string")
    for fmt, template in links.items():
        problem = _template_problem(fmt, template)
        if problem:
            raise _error(path, text, fmt, f"[links].{fmt}: {problem}")
    database_url = raw.get("database_url")
    if database_url is not None and not isinstance(database_url, str):
        raise _error(path, text, "database_url", "database_url must be a postgresql:// URL string")
    return Config(
        hosts=hosts,
        limits=limits,
        tui=tui,
        runner=runner,
        links=links,
        ca_bundle=_ca_bundle(raw, path, text),
        database_url=database_url or None,
    )


LINK_PLACEHOLDERS = ("url", "item", "host", "file_id")
TEMPLATED_FORMATS = ("plain", "bbcode", "markdown")


def _template_problem(fmt: str, template: str) -> str | None:
    """Why a [links] template cannot be used, or None. Only the named placeholders are allowed:
    str.format would otherwise read attributes or items of the values ({url.__class__})."""
    if fmt not in TEMPLATED_FORMATS:
        return f"no such format (templates: {', '.join(TEMPLATED_FORMATS)})"
    allowed = ", ".join(f"{{{p}}}" for p in LINK_PLACEHOLDERS)
    try:
        fields = [
            (name, spec) for _, name, spec, _ in Formatter().parse(template) if name is not None
        ]
    except ValueError as exc:
        return f"{exc}; write a literal brace as {{{{ or }}}}"
    for name, spec in fields:
        if name not in LINK_PLACEHOLDERS:
            return f"{{{name}}} is not a placeholder; use only {allowed}"
        if "{" in (spec or ""):
            return f"{{{name}:{spec}}} nests a placeholder; use only {allowed}"
    try:
        template.format(**dict.fromkeys(LINK_PLACEHOLDERS, ""))
    except ValueError as exc:
        return f"{exc}; use only {allowed}"
    return None


def _check_urls(settings: HostSettings, where: str, path: Path, text: str) -> None:
    """A server address is checked now, not at the first transfer hours later."""
    named = [
        ("base_url", settings.base_url),
        *(("bases." + k, v) for k, v in settings.bases.items()),
    ]
    for key, url in named:
        if url is not None and not is_server_url(url):
            raise _error(
                path,
                text,
                key,
                f"{where}.{key} = {url!r} is not a URL; write it as https://host[:port][/path]",
            )


def is_server_url(url: str) -> bool:
    """An http(s) URL naming a host, with nothing a transfer would choke on (spaces, controls)."""
    if not url or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def unknown_host_table(path: Path, host_id: str, known: Collection[str]) -> UserError:
    """A [hosts.ID] table for an id no spec defines is a typo (its settings would be ignored)."""
    text = path.read_text(encoding="utf-8")
    close = difflib.get_close_matches(host_id, known, n=1)
    hint = f"did you mean [hosts.{close[0]}]?" if close else f"known: {', '.join(sorted(known))}"
    table = re.compile(
        rf"^[ \t]*\[[ \t]*hosts[ \t]*\.[ \t]*[\"']?{re.escape(host_id)}[\"']?[ \t]*\]", re.M
    )
    match = table.search(text)
    at = f"{path}:{text.count(chr(10), 0, match.start()) + 1}" if match else str(path)
    return UserError(
        f"{at}: [hosts.{host_id}]: no host has id {host_id!r}; {hint} Fix the table name or remove it"
    )


def _ca_bundle(raw: dict[str, Any], path: Path, text: str) -> str | None:
    """A CA file path, relative to the config file's folder, checked now rather than at the first
    transfer (where it would surface as an obscure TLS error)."""
    value = raw.get("ca_bundle")
    if value is None:
        return None
    if not isinstance(value, str):
        raise _error(path, text, "ca_bundle", "ca_bundle must be a path string")
    bundle = path.parent / Path(value).expanduser()
    if not bundle.is_file():
        raise _error(
            path,
            text,
            "ca_bundle",
            f"ca_bundle {bundle} is not a file; point it at your CA's PEM file",
        )
    return str(bundle.resolve())


def save_setting(path: Path, table: str, key: str, value: str) -> None:
    """Set `key = "value"` in `[table]` of config.toml and keep the rest of the file as the user
    wrote it (comments, order, spacing). The new text is read back before it replaces the file, so
    a layout this cannot edit (an inline `table = {...}`) is refused instead of broken."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read config ({exc.__class__.__name__})") from None
    line = tomli_w.dumps({key: value}).strip()
    header = re.search(rf"^[ \t]*\[[ \t]*{re.escape(table)}[ \t]*\][^\n]*\n?", text, re.M)
    if header is None:
        new = (text.rstrip("\n") + "\n\n" if text.strip() else "") + f"[{table}]\n{line}\n"
    else:
        end = re.compile(r"^[ \t]*\[", re.M).search(text, header.end())
        stop = end.start() if end else len(text)
        section = text[header.end() : stop]
        old = re.compile(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*=[^\n]*", re.M)
        section = old.sub(line, section, count=1) if old.search(section) else f"{line}\n{section}"
        new = text[: header.end()] + ("" if header.group().endswith("\n") else "\n")
        new += section + text[stop:]
    try:
        saved = tomllib.loads(new).get(table, {}).get(key)
    except tomllib.TOMLDecodeError:
        saved = None
    if saved != value:
        raise UserError(f"{path}: cannot set [{table}] {key} here; edit the file by hand")
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(new, encoding="utf-8")
    os.replace(temp, path)
