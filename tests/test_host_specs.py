"""Host specs as data: built-ins load, user files add/override hosts, and a malformed file costs only
its own host, with one line that names the file and the key."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from filehost_tui.config import HostSettings
from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.hosts.client import HostClient, effective_bases
from filehost_tui.hosts.jsonpath import lookup, parse_path
from filehost_tui.hosts.spec_loader import builtin_spec_files, load_specs
from filehost_tui.hosts.template import MissingVariable, render, variables
from filehost_tui.hosts.token_cache import TokenCache

BUILTIN_IDS = {
    "rapidgator",
    "keep2share",
    "fileboom",
    "tezfiles",
    "katfile",
    "filespace",
    "1fichier",
    "gofile",
    "pixeldrain",
    "catbox",
    "0x0",
    "filedot",
    "nitroflare",
    "ddownload",
    "filejoker",
    "sendcm",
}

VALID = """
id = "myhost"
name = "My host"
family = "custom"
base_url = "https://example.invalid"
credential_fields = ["api_key"]
required_credentials = ["api_key"]

[auth]
kind = "api_key"
credential = "api_key"
in = "query"
name = "key"

[[steps]]
name = "server"
url = "/api/server"
[steps.extract]
upload_url = { json = "result.url" }

[[steps]]
name = "upload"
method = "POST"
url = "{upload_url}"
file_field = "file"
[steps.extract]
code = { json = "[0].file_code" }

[result]
url = "{base}/{code}"
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_builtin_spec_loads_without_errors() -> None:
    registry = load_specs(None)
    assert registry.errors == []
    assert set(registry.specs) == BUILTIN_IDS


def test_each_builtin_spec_file_names_the_api_document_it_follows() -> None:
    for path in builtin_spec_files():
        first_comment = path.read_text(encoding="utf-8").splitlines()[0]
        assert first_comment.startswith("#") and "follows" in first_comment, path.name
        assert "http" in first_comment or "http" in path.read_text().splitlines()[1], path.name


def test_k2s_family_shares_one_protocol_with_different_bases() -> None:
    specs = load_specs(None).specs
    k2s = [specs[i] for i in ("keep2share", "fileboom", "tezfiles")]
    assert {s.family for s in k2s} == {"k2s"}
    assert len({s.base_url for s in k2s}) == 3
    assert k2s[0].steps == k2s[1].steps == k2s[2].steps


def test_0x0_has_no_default_server_and_says_how_to_set_one(tmp_path: Path) -> None:
    spec = load_specs(None).specs["0x0"]
    assert spec.base_url is None
    client = HostClient(spec, HostSettings(), {})
    sample = write(tmp_path, "a.bin", "data")
    with pytest.raises(UploadError) as caught:
        client.upload(sample, name="a.bin", progress=lambda done, total: False)
    assert "set base_url for host 0x0" in caught.value.message


def test_user_spec_adds_a_host_and_overrides_a_builtin(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    write(hosts, "myhost.toml", VALID)
    write(hosts, "mirror.toml", VALID.replace('id = "myhost"', 'id = "catbox"'))
    registry = load_specs(hosts)
    assert registry.errors == []
    assert registry.specs["myhost"].builtin is False
    assert registry.specs["catbox"].family == "custom"
    assert registry.specs["catbox"].source == hosts / "mirror.toml"
    assert set(registry.specs) == BUILTIN_IDS | {"myhost"}


def test_missing_user_hosts_dir_is_not_an_error(tmp_path: Path) -> None:
    registry = load_specs(tmp_path / "nothing-here")
    assert registry.errors == [] and set(registry.specs) == BUILTIN_IDS


BAD_SPECS = {
    "unknown_key": (VALID.replace("[result]", "[result]\nlnk = 1"), "result.lnk", "unknown key"),
    "missing_field": (VALID.replace('family = "custom"\n', ""), "family", "missing required"),
    "missing_step_url": (
        VALID.replace('url = "/api/server"\n', ""),
        "steps[0].url",
        "missing required",
    ),
    "bad_json_path": (
        VALID.replace('"result.url"', '"result..url"'),
        "steps[0].extract.upload_url.json",
        "bad JSON path",
    ),
    "bad_regex": (
        VALID.replace('{ json = "[0].file_code" }', '{ regex = "(unclosed" }'),
        "steps[1].extract.code.regex",
        "bad regex",
    ),
    "unknown_base": (
        VALID.replace('url = "/api/server"', 'url = "/api/server"\nbase = "upload"'),
        "steps[0].base",
        "unknown base 'upload'",
    ),
    "undefined_variable": (
        VALID.replace('"{base}/{code}"', '"{base}/{file_code}"'),
        "result.url",
        "undefined variable {file_code}",
    ),
    "variable_used_before_extracted": (
        VALID.replace('url = "/api/server"', 'url = "/api/server"\nparams = { u = "{code}" }'),
        "steps[0].params.u",
        "undefined variable {code}",
    ),
    "absolute_url_not_from_a_base": (
        VALID.replace('url = "/api/server"', 'url = "https://elsewhere.invalid/api"'),
        "steps[0].url",
        "must start with '/'",
    ),
    "unknown_error_kind": (
        VALID + '\n[[errors]]\nkind = "oops"\nstatus = 500\n',
        "errors[0].kind",
        "unknown error kind",
    ),
    "unknown_auth_kind": (VALID.replace('kind = "api_key"', 'kind = "magic"'), "auth.kind", ""),
    "invalid_toml": (VALID.replace('name = "My host"', "name = "), "", "invalid TOML"),
    "message_quotes_no_such_group": (
        VALID
        + '\n[[errors]]\nkind = "too_large"\nbody_regex = "too big"\nmessage = "max {limit}"\n',
        "errors[0].message",
        "{limit} is not a named group (?P<limit>...) of body_regex",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_malformed_spec_gives_one_line_naming_file_and_key(tmp_path: Path, case: str) -> None:
    text, key, problem = BAD_SPECS[case]
    hosts = tmp_path / "hosts"
    bad = write(hosts, f"{case}.toml", text)
    write(hosts, "good.toml", VALID.replace('id = "myhost"', 'id = "goodhost"'))
    registry = load_specs(hosts)
    assert len(registry.errors) == 1
    line = registry.errors[0]
    assert "\n" not in line
    assert re.match(rf"{re.escape(str(bad))}(:\d+)?: {re.escape(key)}", line), line
    assert problem in line, line
    assert "goodhost" in registry.specs and set(registry.specs) >= BUILTIN_IDS


MULTI_LINE = VALID.replace(
    'name = "key"\n', 'name = "key"\nstale_patterns = [\n  "fine",\n  "(unclosed",\n]\n'
)


@pytest.mark.parametrize(
    ("text", "key", "written_on"),
    [
        (BAD_SPECS["bad_json_path"][0], "steps[0].extract.upload_url.json", "upload_url = {"),
        (BAD_SPECS["bad_regex"][0], "steps[1].extract.code.regex", "code = {"),
        (BAD_SPECS["undefined_variable"][0], "result.url", 'url = "{base}/{file_code}"'),
        (BAD_SPECS["unknown_key"][0], "result.lnk", "lnk = 1"),
        (BAD_SPECS["unknown_auth_kind"][0], "auth.kind", 'kind = "magic"'),
        (BAD_SPECS["missing_step_url"][0], "steps[0].url", "[[steps]]"),  # the table lacking it
        (MULTI_LINE, "auth.stale_patterns[1]", "stale_patterns = ["),
    ],
    ids=["json_path", "regex", "template", "unknown_key", "auth_kind", "missing_key", "multiline"],
)
def test_spec_error_names_the_line_where_the_key_is_written(
    tmp_path: Path, text: str, key: str, written_on: str
) -> None:
    bad = write(tmp_path / "hosts", "bad.toml", text)
    [error] = load_specs(tmp_path / "hosts").errors
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith(written_on))
    assert error.startswith(f"{bad}:{line}: {key}: "), error


def test_a_missing_top_level_key_has_no_line_to_name(tmp_path: Path) -> None:
    bad = write(tmp_path / "hosts", "bad.toml", BAD_SPECS["missing_field"][0])
    [error] = load_specs(tmp_path / "hosts").errors
    assert error.startswith(f"{bad}: family: missing required key"), error


def test_broken_override_leaves_the_builtin_in_place(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    write(hosts, "catbox.toml", 'id = "catbox"\nname = "x"\n')
    registry = load_specs(hosts)
    assert len(registry.errors) == 1 and "family" in registry.errors[0]
    assert registry.specs["catbox"].builtin is True


def test_two_user_files_with_one_id_is_an_error(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    write(hosts, "a.toml", VALID)
    write(hosts, "b.toml", VALID)
    registry = load_specs(hosts)
    assert len(registry.errors) == 1 and "already defined" in registry.errors[0]


def test_named_bases_follow_an_overridden_base_url() -> None:
    gofile = load_specs(None).specs["gofile"]
    assert effective_bases(gofile, HostSettings()) == {
        "base_url": "https://api.gofile.io",
        "upload": "https://upload.gofile.io",
    }
    loopback = HostSettings(base_url="http://127.0.0.1:9/")
    assert effective_bases(gofile, loopback) == {
        "base_url": "http://127.0.0.1:9",
        "upload": "http://127.0.0.1:9",
    }
    both = HostSettings(base_url="http://127.0.0.1:9", bases={"upload": "http://127.0.0.1:10"})
    assert effective_bases(gofile, both)["upload"] == "http://127.0.0.1:10"


def test_json_path_reads_nested_keys_and_list_items() -> None:
    doc = {"links": [{"download": "u"}], "response": None}
    assert lookup(doc, parse_path("links[0].download")) == "u"
    assert lookup([{"file_code": "C"}], parse_path("[0].file_code")) == "C"
    assert lookup(doc, parse_path("response.token")) is None
    assert lookup(doc, parse_path("links[3].download")) is None
    for bad in ("a..b", "a.", "a[x]", "a[0]b", ""):
        with pytest.raises(ValueError):
            parse_path(bad)


def test_templates_substitute_encode_and_report_missing_values() -> None:
    assert variables("{scheme}://{server}/x?id={id}") == {"scheme", "server", "id"}
    assert render("/api/file/{name|url}", {"name": "a b/c.bin"}) == "/api/file/a%20b%2Fc.bin"
    assert render("{{literal}} {n}", {"n": 2}) == "{literal} 2"
    with pytest.raises(MissingVariable):
        render("{link}", {})
    with pytest.raises(ValueError):
        variables("{unclosed")


def test_token_cache_logs_in_once_for_concurrent_workers() -> None:
    cache = TokenCache(ttl=60)
    logins: list[int] = []
    entered = threading.Event()
    release = threading.Event()

    def login() -> str:
        logins.append(1)
        entered.set()
        assert release.wait(30)
        return "tok-1"

    results: list[str] = []
    workers = [threading.Thread(target=lambda: results.append(cache.get(login))) for _ in range(4)]
    for worker in workers:
        worker.start()
    assert entered.wait(30)
    release.set()
    for worker in workers:
        worker.join(30)
    assert results == ["tok-1"] * 4 and len(logins) == 1


def test_token_cache_invalidate_keeps_a_token_another_worker_refreshed() -> None:
    now = [0.0]
    cache = TokenCache(ttl=10, clock=lambda: now[0])
    assert cache.get(lambda: "old") == "old"
    cache.invalidate("old")
    assert cache.get(lambda: "new") == "new"
    cache.invalidate("old")  # a second worker reporting the same stale token
    assert cache.get(lambda: "unexpected") == "new"
    now[0] = 11.0
    assert cache.get(lambda: "after-ttl") == "after-ttl"


def test_token_cache_does_not_repeat_a_refused_login_for_a_minute() -> None:
    """Workers queued behind a refused login get its refusal instead of each logging in again
    (hosts lock accounts after a burst of bad logins); a network failure is tried again."""
    now = [0.0]
    cache = TokenCache(ttl=10, clock=lambda: now[0])
    attempts: list[str] = []

    def refused() -> str:
        attempts.append("refused")
        raise UploadError(ErrorKind.AUTH, "rapidgator: wrong password")

    def unreachable() -> str:
        attempts.append("unreachable")
        raise UploadError(ErrorKind.NETWORK, "connection refused")

    for _ in range(3):
        with pytest.raises(UploadError, match="wrong password") as caught:
            cache.get(refused)
        assert caught.value.kind is ErrorKind.AUTH
    assert attempts == ["refused"]
    now[0] = 61.0
    with pytest.raises(UploadError, match="connection refused"):
        cache.get(unreachable)
    with pytest.raises(UploadError, match="connection refused"):
        cache.get(unreachable)
    assert cache.get(lambda: "tok") == "tok"
    assert attempts == ["refused", "unreachable", "unreachable"]


def test_client_refuses_missing_required_credentials_without_network(tmp_path: Path) -> None:
    spec = load_specs(None).specs["rapidgator"]
    client = HostClient(spec, HostSettings(base_url="http://127.0.0.1:9"), {})
    sample = write(tmp_path, "a.bin", "data")
    with pytest.raises(UploadError) as caught:
        client.upload(sample, name="a.bin", progress=lambda done, total: False)
    assert caught.value.kind is ErrorKind.AUTH
    assert "filehost-tui login rapidgator" in caught.value.message


def test_built_in_specs_keep_their_display_names():
    names = {spec_id: spec.name for spec_id, spec in load_specs(None).specs.items()}
    assert names["rapidgator"] == "Rapidgator"
    assert names["gofile"] == "Gofile"
    assert not any(name.startswith(("base_url", "bases.")) for name in names.values())
