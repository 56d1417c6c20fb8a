"""String templates of host specs: "{base}/{file_code}", "/api/file/{name|url}", "Bearer {api_key}".

Only `{variable}` substitution (with an optional `|url` filter that percent-encodes the value) and
`{{`/`}}` for literal braces: enough for the protocols and small enough to check at load time which
variables a template needs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)(\|url)?\}|[{}]")


class MissingVariable(KeyError):
    """A template needed a variable that has no value (an optional extraction found nothing)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def variables(template: str) -> set[str]:
    """Names a template refers to; raises ValueError on a stray brace or a bad name."""
    names: set[str] = set()
    for match in _FIELD.finditer(template):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if match.group(1) is None:
            raise ValueError(f"stray {token!r} in template {template!r} (write {token * 2})")
        names.add(match.group(1))
    return names


def as_text(value: Any) -> str:
    """How a reply value reads in a template or condition (JSON-ish: true/false, 2, text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render(template: str, values: Mapping[str, Any]) -> str:
    """Substitute variables; raises MissingVariable when one is absent or None."""

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = match.group(1)
        if name is None:
            raise ValueError(f"stray {token!r} in template {template!r}")
        value = values.get(name)
        if value is None or isinstance(value, dict | list):
            raise MissingVariable(name)
        text = as_text(value)
        return quote(text, safe="") if match.group(2) else text

    return _FIELD.sub(substitute, template)
