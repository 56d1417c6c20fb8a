"""config.toml: per-host settings, global limits and link templates (DESIGN §3).

Errors name the file, line and key, because a user editing TOML over SSH needs to know where to look.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from filehost_tui.errors import UserError


def env_key(host_id: str, suffix: str) -> str:
    """FILEHOST_TUI_<HOST>_<SUFFIX>, HOST upper-cased with non-alphanumerics as '_' (DESIGN §3)."""
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


@dataclass(frozen=True)
class Config:
    hosts: dict[str, HostSettings] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    links: dict[str, str] = field(default_factory=dict)
    ca_bundle: str | None = None

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
    "max_file_size": 1,
    "split_size": 1,
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

    unknown = set(raw) - {"hosts", "limits", "links", "ca_bundle"}
    if unknown:
        key = sorted(unknown)[0]
        raise _error(path, text, key, f"unknown key {key} (known: ca_bundle, hosts, limits, links)")
    hosts_raw = raw.get("hosts", {})
    if not isinstance(hosts_raw, dict):
        raise _error(path, text, "hosts", "[hosts] must be a table of [hosts.ID] tables")
    hosts = {
        host_id: HostSettings(**_check_table(table, HostSettings, f"hosts.{host_id}", path, text))
        for host_id, table in hosts_raw.items()
    }
    limits = Limits(**_check_table(raw.get("limits", {}), Limits, "limits", path, text))
    links = raw.get("links", {})
    if not isinstance(links, dict) or not all(isinstance(v, str) for v in links.values()):
        raise _error(path, text, "links", "[links] must map a format name to a template string")
    return Config(hosts=hosts, limits=limits, links=links, ca_bundle=_ca_bundle(raw, path, text))


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
