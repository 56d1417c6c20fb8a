"""The line of a spec file where a key path ("steps[1].extract.link.json") is written.

tomllib keeps no positions, so the line is found by parsing ever longer beginnings of the file: the
key is on the first line after which it exists. That is exact for every way TOML can write a key
(tables, arrays of tables, dotted keys, inline tables) without a second TOML parser. A key that is
missing (a required key left out) is placed at the table that lacks it.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _parts(key: str) -> list[str | int]:
    return [name if name else int(index) for name, index in _PART.findall(key)]


def _has(document: Any, parts: list[str | int]) -> bool:
    for part in parts:
        if isinstance(part, int):
            if not isinstance(document, list) or part >= len(document):
                return False
        elif not isinstance(document, dict) or part not in document:
            return False
        document = document[part]
    return True


def _parsed(text: str) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def key_line(text: str, key: str) -> int | None:
    """1-based line of `key` (or of the nearest table holding it); None when nothing holds it."""
    whole = _parsed(text)
    if whole is None:
        return None
    parts = _parts(key)
    while parts and not _has(whole, parts):
        parts.pop()
    if not parts:
        return None
    lines = text.splitlines(keepends=True)
    last_complete = 0  # the longest beginning that parses: a value spanning lines starts after it
    for n in range(1, len(lines) + 1):
        document = _parsed("".join(lines[:n]))
        if document is None:
            continue
        if _has(document, parts):
            return _first_content_line(lines, last_complete, n)
        last_complete = n
    return None


def _first_content_line(lines: list[str], after: int, at: int) -> int:
    for index in range(after, at):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith("#"):
            return index + 1
    return at
