"""docs/host-specs.md and docs/host-spec.schema.json stay true to the code.

The key list (spec_format.py) is compared with what the loader really accepts and with the spec
dataclasses; the committed docs with what the generator makes of that list; the schema with every
built-in spec; the examples with the built-in files they were taken from.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from filehost_tui.errors import ErrorKind
from filehost_tui.hosts.classify import ErrorRule
from filehost_tui.hosts.spec import (
    Auth,
    Captcha,
    Condition,
    Extract,
    HostSpec,
    Poll,
    ResultSpec,
    Step,
)
from filehost_tui.hosts.spec_format import REQUIRED, TABLE_LIST, TABLES_BY_ID
from filehost_tui.hosts.spec_loader import builtin_spec_files, parse_spec
from filehost_tui.hosts.spec_reader import SpecError
from filehost_tui.hosts.spec_reference import (
    BEGIN,
    END,
    json_schema,
    markdown_reference,
    schema_text,
    with_reference,
)
from tests.json_schema_subset import errors, unknown_keywords

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "host-specs.md"
SCHEMA = REPO / "docs" / "host-spec.schema.json"
REGENERATE = "run `python -m filehost_tui.hosts.spec_reference docs`"

# A spec that uses every kind of table once, each with only what it requires.
SMALL: dict[str, Any] = {
    "id": "small",
    "name": "Small",
    "family": "test",
    "credential_fields": ["username", "password"],
    "auth": {
        "kind": "login",
        "login": {"url": "/login", "extract": {"token": {"json": "token"}}},
    },
    "errors": [{"kind": "server"}],
    "steps": [
        {
            "url": "/init",
            "extract": {
                "ticket": {"json": "ticket"},
                "code": {"captcha": {"kind": "positioned_digits", "length": 4}},
            },
            "finish_if": {"json": "done"},
            "poll": {"until": {"json": "ready"}},
        },
        {"url": "/upload", "method": "POST", "file_field": "file"},
    ],
    "account": [{"url": "/me"}],
    "result": {"url": "{base}/{ticket}"},
}
# Where each kind of table sits in SMALL, and how to read its parsed value from the HostSpec.
PLACES: dict[str, tuple[tuple[str | int, ...], Any]] = {
    "spec": ((), lambda s: s),
    "auth": (("auth",), lambda s: s.auth),
    "step": (("account", 0), lambda s: s.account[0]),
    "extract": (("steps", 0, "extract", "ticket"), lambda s: s.steps[0].extract["ticket"]),
    "captcha": (
        ("steps", 0, "extract", "code", "captcha"),
        lambda s: s.steps[0].extract["code"].captcha,
    ),
    "condition": (("steps", 0, "finish_if"), lambda s: s.steps[0].finish_if),
    "poll": (("steps", 0, "poll"), lambda s: s.steps[0].poll),
    "error": (("errors", 0), lambda s: s.errors[0]),
    "result": (("result",), lambda s: s.result),
}
DATACLASSES = {
    "spec": HostSpec,
    "auth": Auth,
    "step": Step,
    "extract": Extract,
    "captcha": Captcha,
    "condition": Condition,
    "poll": Poll,
    "error": ErrorRule,
    "result": ResultSpec,
}
NOT_FROM_THE_FILE = {"source", "builtin"}  # HostSpec fields the loader fills in itself


def table_in(data: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def keys_the_loader_knows(table_id: str) -> set[str]:
    """Black box: a key nobody takes is refused with the list of keys that table takes."""
    data = copy.deepcopy(SMALL)
    table_in(data, PLACES[table_id][0])["zz_not_a_key"] = 1
    with pytest.raises(SpecError) as caught:
        parse_spec(data, source=None, builtin=False)
    match = re.search(r"zz_not_a_key: unknown key \(known here: ([^)]*)\)", str(caught.value))
    assert match, str(caught.value)
    return set(match.group(1).split(", "))


def test_the_small_spec_parses_and_covers_every_table() -> None:
    parse_spec(copy.deepcopy(SMALL), source=None, builtin=False)
    assert set(PLACES) == set(TABLES_BY_ID) == set(DATACLASSES)


@pytest.mark.parametrize("table_id", sorted(TABLES_BY_ID))
def test_documented_keys_are_exactly_the_keys_the_loader_accepts(table_id: str) -> None:
    documented = {key.name for key in TABLES_BY_ID[table_id].keys}
    assert documented == keys_the_loader_knows(table_id)


@pytest.mark.parametrize("table_id", sorted(TABLES_BY_ID))
def test_documented_keys_fill_every_field_of_the_spec_dataclass(table_id: str) -> None:
    fields = {f.name for f in dataclasses.fields(DATACLASSES[table_id])} - NOT_FROM_THE_FILE
    documented = {key.field for key in TABLES_BY_ID[table_id].keys}
    assert documented == fields


@pytest.mark.parametrize("table_id", sorted(TABLES_BY_ID))
def test_documented_defaults_are_what_the_loader_fills_in(table_id: str) -> None:
    parsed = PLACES[table_id][1](parse_spec(copy.deepcopy(SMALL), source=None, builtin=False))
    given = table_in(SMALL, PLACES[table_id][0])
    for key in TABLES_BY_ID[table_id].keys:
        if key.name in given or key.default is REQUIRED or key.shown_default is not None:
            continue
        value = getattr(parsed, key.field)
        if key.name == "body":  # body = "file" sets the boolean body_file
            assert value is False
        elif key.name == "auth" and table_id == "spec":  # no [auth]: anonymous
            assert value == Auth(kind="none")
        else:
            expected = tuple(key.default) if isinstance(key.default, list) else key.default
            assert value == expected, key.name


def test_committed_key_reference_is_the_generated_one() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert page.count(BEGIN) == 1 and page.count(END) == 1
    assert with_reference(page) == page, f"docs/host-specs.md is stale: {REGENERATE}"
    assert markdown_reference() in page


def test_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), f"schema is stale: {REGENERATE}"


def test_the_schema_uses_only_keywords_the_test_validator_checks() -> None:
    assert unknown_keywords(json_schema()) == set()


@pytest.mark.parametrize("path", builtin_spec_files(), ids=lambda p: p.name)
def test_every_builtin_spec_validates_against_the_schema(path: Path) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert errors(tomllib.loads(path.read_text(encoding="utf-8")), schema) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(zz=1), "$.zz: not allowed"),
        (lambda d: d.update(id="Not An Id"), "does not match"),
        (lambda d: d["auth"].update(kind="magic"), "$.auth.kind: 'magic' not one of"),
        (lambda d: d["steps"][0].update(method=2), "$.steps[0].method: not string"),
        (lambda d: d["steps"][0]["extract"]["ticket"].update(body="yes"), "not boolean"),
        (lambda d: d["errors"][0].update(kind="oops"), "$.errors[0].kind"),
        (lambda d: d["steps"][0]["poll"].pop("until"), "$.steps[0].poll.until: required"),
        (lambda d: d.update(max_connections=True), "$.max_connections: not integer"),
    ],
)
def test_the_schema_rejects_what_the_loader_rejects(change: Any, problem: str) -> None:
    data = copy.deepcopy(SMALL)
    assert errors(data, json_schema()) == []
    change(data)
    found = errors(data, json_schema())
    assert any(problem in p for p in found), found
    with pytest.raises(SpecError):
        parse_spec(data, source=None, builtin=False)


def examples() -> list[tuple[str, str]]:
    """(file name, block) for each `<!-- example: FILE -->` marker and the code block after it."""
    page = PAGE.read_text(encoding="utf-8")
    found = re.findall(r"<!-- example: (\S+) -->\n```toml\n(.*?)```", page, re.DOTALL)
    assert len(found) == page.count("<!-- example:")
    return found


def test_each_kind_of_host_has_an_example_taken_from_a_builtin_spec() -> None:
    page = PAGE.read_text(encoding="utf-8")
    for heading in (
        "Plain POST",
        "Raw PUT",
        "API key",
        "Login with a token",
        "Session with a single-use id",
        "Several steps with polling",
        "Link built from the name",
    ):
        section = page.split(f"\n### {heading}\n", 1)[1].split("\n### ", 1)[0]
        assert "<!-- example: " in section, heading
    builtin = {p.name: p.read_text(encoding="utf-8") for p in builtin_spec_files()}
    for name, block in examples():
        assert block in builtin[name], f"the {name} example is no longer in {name}"


def test_every_error_kind_is_explained() -> None:
    page = PAGE.read_text(encoding="utf-8")
    section = page.split("\n## Error kinds\n", 1)[1].split("\n## ", 1)[0]
    assert {k.value for k in ErrorKind} <= set(re.findall(r"^\| `(\w+)` \|", section, re.M))


def test_every_table_of_a_spec_is_in_the_reference() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert all(f"\n### {t.title}\n" in page for t in TABLE_LIST)
