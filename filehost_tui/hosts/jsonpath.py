"""A tiny JSON path ("response.upload.url", "[0].file_code", "links[0].download", "$").

Host specs read values out of replies with it. It is parsed when the spec loads, so a typo is an error
naming the spec file, not a surprise in the middle of an upload.
"""

from __future__ import annotations

import re
from typing import Any

Path = tuple[str | int, ...]

_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")
_MISSING = object()


def parse_path(text: str) -> Path:
    """Split a path into keys and list indexes; raises ValueError on bad syntax."""
    if text == "$":
        return ()
    body = text[2:] if text.startswith("$.") else text[1:] if text.startswith("$[") else text
    parts: list[str | int] = []
    pos = 0
    while pos < len(body):
        match = _TOKEN.match(body, pos)
        key, index = match.groups() if match else (None, None)
        dotted = bool(match) and match.group(0).startswith(".")
        if not match or (key is not None and dotted != (pos > 0)):
            raise ValueError(f"bad JSON path {text!r} at position {pos}")
        parts.append(key if key is not None else int(index))
        pos = match.end()
    if not parts:
        raise ValueError(f"bad JSON path {text!r}")
    return tuple(parts)


def lookup(document: Any, path: Path) -> Any:
    """The value at `path`, or None when any step is missing (null counts as missing)."""
    current = document
    for part in path:
        if isinstance(part, int):
            if not isinstance(current, list) or part >= len(current):
                return None
            current = current[part]
        else:
            if not isinstance(current, dict) or part not in current:
                return None
            current = current[part]
    return current
