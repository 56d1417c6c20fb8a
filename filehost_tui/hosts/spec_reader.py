"""Typed reading of a TOML table that remembers the key path, for one-line spec errors.

Every value a spec loader takes goes through `TableReader.take`, so an unknown key (a typo) is found
by `finish()` and every error names the key where it happened ("steps[1].extract.link.json").
"""

from __future__ import annotations

from typing import Any

REQUIRED: Any = object()


class SpecError(Exception):
    """A problem in one spec file at one key; the loader prefixes the file name."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key


def join(prefix: str, key: str) -> str:
    if not prefix:
        return key
    return f"{prefix}{key}" if key.startswith("[") else f"{prefix}.{key}"


_TYPE_NAMES = {
    str: "a string",
    bool: "true or false",
    int: "an integer",
    float: "a number",
    dict: "a table",
    list: "a list",
}


class TableReader:
    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise SpecError(where, "must be a table")
        self.data = data
        self.where = where
        self._used: set[str] = set()

    def key(self, name: str) -> str:
        return join(self.where, name)

    def has(self, name: str) -> bool:
        return name in self.data

    def take(self, name: str, kind: type, default: Any = REQUIRED) -> Any:
        """The value of `name`, checked to be of `kind` (int accepted for float)."""
        self._used.add(name)
        if name not in self.data:
            if default is REQUIRED:
                raise SpecError(self.key(name), "missing required key")
            return default
        value = self.data[name]
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise SpecError(self.key(name), f"must be {_TYPE_NAMES[kind]}")
        return value

    def strings(self, name: str, default: Any = REQUIRED) -> tuple[str, ...]:
        """A list of strings."""
        value = self.take(name, list, default)
        if value is default and default is not REQUIRED:
            return tuple(value)
        if not all(isinstance(v, str) for v in value):
            raise SpecError(self.key(name), "must be a list of strings")
        return tuple(value)

    def string_table(self, name: str) -> dict[str, str]:
        """A table whose values are strings (templates); integers are accepted as text."""
        value = self.take(name, dict, {})
        out: dict[str, str] = {}
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, str | int):
                raise SpecError(join(self.key(name), k), "must be a string")
            out[k] = str(v)
        return out

    def sub(self, name: str, default: Any = REQUIRED) -> TableReader | None:
        value = self.take(name, dict, default)
        return None if value is None else TableReader(value, self.key(name))

    def finish(self) -> None:
        """Reject keys nobody took: in a spec a typo must not be silently ignored."""
        unknown = sorted(set(self.data) - self._used)
        if unknown:
            known = ", ".join(sorted(self._used))
            raise SpecError(self.key(unknown[0]), f"unknown key (known here: {known})")
