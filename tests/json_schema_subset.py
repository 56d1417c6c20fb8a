"""A validator for the part of JSON Schema that docs/host-spec.schema.json uses.

Small on purpose: it knows exactly the keywords the generator emits and refuses any other, so a
schema that starts using a keyword this does not check fails loudly instead of passing unchecked.
"""

from __future__ import annotations

import re
from typing import Any

CHECKED = {"type", "properties", "required", "additionalProperties", "items", "enum", "pattern"}
INFORMATIVE = {"$schema", "title", "description", "default", "$defs", "$ref"}

_TYPES = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def unknown_keywords(schema: Any) -> set[str]:
    """Keywords anywhere in the schema that this validator does not handle."""
    if not isinstance(schema, dict):
        return set()
    found = set(schema) - CHECKED - INFORMATIVE
    for name, sub in schema.items():
        if name in ("properties", "$defs"):
            for child in sub.values():
                found |= unknown_keywords(child)
        elif name in ("items", "additionalProperties"):
            found |= unknown_keywords(sub)
    return found


def errors(instance: Any, schema: dict[str, Any], root: dict[str, Any] | None = None,
           where: str = "$") -> list[str]:  # fmt: skip
    """Every place where `instance` breaks `schema` (an empty list when it is valid)."""
    root = schema if root is None else root
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return errors(instance, root["$defs"][name], root, where)
    wanted = schema.get("type")
    if wanted is not None:
        kinds = wanted if isinstance(wanted, list) else [wanted]
        if not any(_TYPES[k](instance) for k in kinds):
            return [f"{where}: not {' or '.join(kinds)}"]
    found: list[str] = []
    if "enum" in schema and instance not in schema["enum"]:
        found.append(f"{where}: {instance!r} not one of {schema['enum']}")
    if "pattern" in schema and not re.search(schema["pattern"], instance):
        found.append(f"{where}: {instance!r} does not match {schema['pattern']}")
    if isinstance(instance, dict):
        found += [f"{where}.{k}: required" for k in schema.get("required", []) if k not in instance]
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, value in instance.items():
            if key in properties:
                found += errors(value, properties[key], root, f"{where}.{key}")
            elif extra is False:
                found.append(f"{where}.{key}: not allowed")
            elif isinstance(extra, dict):
                found += errors(value, extra, root, f"{where}.{key}")
    if isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            found += errors(item, schema["items"], root, f"{where}[{i}]")
    return found
