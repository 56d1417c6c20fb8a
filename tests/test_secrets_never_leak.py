"""Secrets never leak: full uploads against the fake hosts with known secret values, then every byte
the app wrote or printed is searched for them.

Searched: the database and its -wal/-shm, every other file under the home (logs, cache), and the
output of add, run (text and JSON lines), retry, status, links, stats and hosts --check. Searched
for: the password, API key and access tokens given through the environment, a wrong token, and the
session values the fakes handed out (rapidgator login tokens, katfile single-use sess_ids).
"""

from __future__ import annotations

import base64
import html
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from filehost_tui.config import HostSettings
from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.errors import UploadError
from filehost_tui.hosts.client import HostClient
from filehost_tui.hosts.spec_loader import load_specs
from filehost_tui.redact import scrub
from filehost_tui.secret import Secret
from tests.cli_support import base_url_env, cli, write_config
from tests.loopback_http import LoopbackServer, Plan

RG = {"username": "alice@example.invalid", "password": "pw-Leak-Secret-1"}
KATFILE_KEY = "katfile-Leak-Key-2"
K2S_TOKEN = "k2s-Leak-Token-3"
WRONG_TOKEN = "fileboom-Wrong-Token-4"
HOSTS = ("rapidgator", "katfile", "keep2share", "fileboom")


@dataclass
class Scenario:
    home: Path
    outputs: dict[str, subprocess.CompletedProcess[str]]
    secrets: dict[str, str]
    received: dict[str, int]


def _secret_env(fakes: dict[str, FakeHost]) -> dict[str, str]:
    env: dict[str, str] = {}
    for host_id, fake in fakes.items():
        env.update(base_url_env(host_id, fake))
    env.update(
        FILEHOST_TUI_RAPIDGATOR_USERNAME=RG["username"],
        FILEHOST_TUI_RAPIDGATOR_PASSWORD=RG["password"],
        FILEHOST_TUI_KATFILE_API_KEY=KATFILE_KEY,
        FILEHOST_TUI_KEEP2SHARE_ACCESS_TOKEN=K2S_TOKEN,
        FILEHOST_TUI_FILEBOOM_ACCESS_TOKEN=WRONG_TOKEN,  # rejected: its error goes everywhere
    )
    return env


def _session_values(rapidgator: FakeHost, katfile: FakeHost) -> dict[str, str]:
    """What the fakes issued: login tokens (read from the fake) and the sess_ids sent back."""
    impl = rapidgator._impl
    with impl.lock:
        tokens = sorted(impl._tokens)
    values = {f"rapidgator token {i}": t for i, t in enumerate(tokens)}
    for i, received in enumerate(katfile.received):
        values[f"katfile sess_id {i}"] = received.fields["sess_id"]
    return values


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    root = tmp_path_factory.mktemp("leak")
    home = root / "home"
    write_config(
        home,
        "\n".join(f"[hosts.{h}]\nretry_delay = 0.2\nmax_retries = 2" for h in HOSTS) + "\n",
    )
    single = root / "movie.bin"
    single.write_bytes(os.urandom(300_000))
    gallery = root / "gallery"
    gallery.mkdir()
    for i in range(3):
        (gallery / f"img{i}.jpg").write_bytes(os.urandom(20_000))

    outputs: dict[str, subprocess.CompletedProcess[str]] = {}
    with (
        FakeHost("rapidgator", credentials=RG) as rapidgator,
        FakeHost("xfs_api", credentials={"api_key": KATFILE_KEY}) as katfile,
        FakeHost("k2s", credentials={"access_token": K2S_TOKEN}) as keep2share,
        FakeHost("k2s", credentials={"access_token": "the-right-fileboom-token"}) as fileboom,
    ):
        fakes = {"rapidgator": rapidgator, "katfile": katfile, "keep2share": keep2share}
        env = _secret_env({**fakes, "fileboom": fileboom})
        # A retried failure whose message names a URL carrying the session token in its query.
        rapidgator.inject("status", status=500, step="server")
        katfile.inject("status", status=503)

        host_args = [arg for h in HOSTS for arg in ("--host", h)]
        outputs["add"] = cli(home, "add", str(single), str(gallery), *host_args, env=env)
        outputs["run"] = cli(home, "run", "--until-idle", env=env)
        outputs["retry"] = cli(home, "retry", "--failed", env=env)
        outputs["run --json"] = cli(home, "run", "--until-idle", "--json", env=env)
        for name, args in {
            "status": ["status"],
            "status --json": ["status", "--json"],
            "links": ["links"],
            "links --format json": ["links", "--format", "json"],
            "stats --json": ["stats", "--json"],
            "hosts --check --json": ["hosts", *HOSTS, "--check", "--json"],
        }.items():
            outputs[name] = cli(home, *args, env=env)
        secrets = {
            "password": RG["password"],
            "katfile api_key": KATFILE_KEY,
            "k2s access_token": K2S_TOKEN,
            "wrong access_token": WRONG_TOKEN,
            **_session_values(rapidgator, katfile),
        }
        received = {h: len(f.received) for h, f in fakes.items()}
    return Scenario(home, outputs, secrets, received)


def _leaks(data: bytes, secrets: dict[str, str]) -> list[str]:
    found = []
    for label, value in secrets.items():
        forms = {value, quote(value, safe=""), quote_plus(value)}
        if any(form.encode() in data for form in forms):
            found.append(label)
    return found


def test_the_scenario_really_used_and_exercised_the_secrets(scenario: Scenario):
    outs = scenario.outputs
    uploads = json.loads(outs["status --json"].stdout)["uploads"]
    by_host: dict[str, set[str]] = {}
    for u in uploads:
        by_host.setdefault(u["host"], set()).add(u["status"])

    assert outs["add"].returncode == 0, outs["add"].stderr
    assert outs["run"].returncode == 1  # fileboom's token is wrong
    assert scenario.received == {"rapidgator": 2, "katfile": 2, "keep2share": 2}
    assert by_host == {
        "rapidgator": {"completed"},
        "katfile": {"completed"},
        "keep2share": {"completed"},
        "fileboom": {"failed"},
    }
    assert any(label.startswith("rapidgator token") for label in scenario.secrets)
    assert any(label.startswith("katfile sess_id") for label in scenario.secrets)
    # The retried rapidgator failure named its URL, with the token masked.
    assert "token=***" in outs["run"].stdout
    fileboom_rows = [u for u in uploads if u["host"] == "fileboom"]
    assert all(u["error_kind"] == "auth" for u in fileboom_rows)


def test_no_secret_in_the_database_or_its_wal(scenario: Scenario):
    db_files = sorted(scenario.home.glob("filehost-tui.db*"))

    assert db_files
    for path in db_files:
        assert _leaks(path.read_bytes(), scenario.secrets) == [], path


def test_no_secret_in_logs_or_any_other_file_the_app_wrote(scenario: Scenario):
    written = [p for p in scenario.home.rglob("*") if p.is_file() and p.name != "config.toml"]

    logs = b"".join(p.read_bytes() for p in written if p.parent.name == "logs")
    assert b"token=***" in logs  # the log saw the URL that carried a token, masked
    for path in written:
        assert _leaks(path.read_bytes(), scenario.secrets) == [], path


@pytest.mark.parametrize(
    "command",
    [
        "add",
        "run",
        "retry",
        "run --json",
        "status",
        "status --json",
        "links",
        "links --format json",
        "stats --json",
        "hosts --check --json",
    ],
)
def test_no_secret_in_command_output(scenario: Scenario, command: str):
    result = scenario.outputs[command]
    text = (result.stdout + result.stderr).encode()

    assert result.stdout or result.stderr
    assert _leaks(text, scenario.secrets) == []


def test_an_echoed_basic_auth_header_is_masked_in_what_is_stored_and_shown(tmp_path):
    """pixeldrain sends the API key as HTTP Basic auth: a reply that echoes the header carries the
    key base64-encoded, which masking the raw key alone would miss."""
    key = "ApiKeySecret987"
    encoded = base64.b64encode(f":{key}".encode()).decode()
    sample = tmp_path / "a.bin"
    sample.write_bytes(b"x" * 100)
    spec = load_specs(None).specs["pixeldrain"]
    with LoopbackServer() as srv:
        srv.plan(Plan(body=f"<html>auth=Basic {encoded}</html>".encode()))
        client = HostClient(spec, HostSettings(base_url=srv.url), {"api_key": Secret(key)})
        with pytest.raises(UploadError) as caught:
            client.upload(sample, name="a.bin", progress=lambda done, total: False)
        assert srv.requests[-1].headers["authorization"] == f"Basic {encoded}"
    shown = scrub(caught.value.message)  # what the engine stores, prints and logs
    assert encoded not in shown and key not in shown


# --- a credential the host echoes back, in every encoding a reply can carry ------------------

# Every character some encoding rewrites (/ + " & < > ' space, é, an emoji), between markers that
# would show any head, middle or tail of the key that escaped the masking.
ECHOED_KEY = "Zk9Hd/aB3+Qx7Mid\"q&<\u00e9>'Wv4Tl \U0001f600TailEnd"
ECHO_MARKERS = ("Zk9Hd", "Qx7Mid", "Wv4Tl", "TailEnd")


def _php_json(value: str) -> str:
    """PHP's json_encode default: `\\/` for slashes, `\\uXXXX` (surrogate pairs) beyond ASCII."""
    return json.dumps(value)[1:-1].replace("/", "\\/")


def _b64(prefix: str) -> tuple[str, str]:
    """An echo of base64(prefix + key), and a run of it that only the key's bytes make."""
    encoded = base64.b64encode(f"{prefix}{ECHOED_KEY}".encode()).decode()
    start = len(base64.b64encode(prefix.encode())) + 2
    return encoded, encoded[start : start + 12]


ECHOES = {
    "plain": (ECHOED_KEY, "text/plain"),
    "url-encoded": (quote(ECHOED_KEY, safe=""), "text/plain"),
    "form-encoded": (quote_plus(ECHOED_KEY), "text/plain"),
    "php json": (_php_json(ECHOED_KEY), "application/json"),
    "json, quotes as \\u0022": (
        _php_json(ECHOED_KEY).replace('\\"', "\\u0022").replace("'", "\\u0027"),
        "application/json",
    ),
    "html-escaped": (html.escape(ECHOED_KEY), "text/html"),
    "html character references": (
        "".join(c if c.isalnum() else f"&#{ord(c)};" for c in ECHOED_KEY),
        "text/html",
    ),
    "base64": (_b64("")[0], "text/plain"),
    "basic auth base64": (_b64("katfile:")[0], "text/plain"),
}


def _echo_body(form: str) -> str:
    echoed, content_type = ECHOES[form]
    if content_type == "application/json":
        return '{"msg":"Wrong key: ' + echoed + '","status":400}'
    if content_type == "text/html":
        return f"<html><body><h1>Bad request</h1><p>Wrong key {echoed}</p></body></html>"
    return f"Wrong key {echoed}"


def test_a_credential_echoed_in_any_encoding_never_reaches_db_output_or_log(tmp_path):
    """Each upload's reply echoes the API key in one encoding, and one more puts it where the
    message's excerpt is cut: the key is masked whole in the database, `run`, `status` (text and
    JSON) and the log."""
    home = tmp_path / "home"
    write_config(home, "[hosts.katfile]\nmax_retries = 0\n")
    forms = [*ECHOES, "cut"]
    files = []
    for i in range(len(forms)):
        files.append(tmp_path / f"f{i}.bin")
        files[-1].write_bytes(os.urandom(1000))
    markers = [*ECHO_MARKERS, _b64("")[1], _b64("katfile:")[1]]

    with FakeHost("xfs_api", credentials={"api_key": ECHOED_KEY}) as katfile:
        for form in forms:
            body = _echo_body("php json") if form == "cut" else _echo_body(form)
            if form == "cut":  # the key starts just before the 120th character of the excerpt
                body = body.replace('"Wrong key: ', '"Wrong key' + "." * 90 + ": ")
            content_type = "text/plain" if form == "cut" else ECHOES[form][1]
            katfile.inject("reply", step="upload", status=400, body=body, content_type=content_type)
        env = {**base_url_env("katfile", katfile), "FILEHOST_TUI_KATFILE_API_KEY": ECHOED_KEY}
        added = cli(home, "add", *map(str, files), "--host", "katfile", env=env)
        run = cli(home, "run", "--until-idle", env=env)
        status = cli(home, "status", env=env)
        status_json = cli(home, "status", "--json", env=env)
        assert katfile.pending_faults() == []  # every echo was sent

    assert added.returncode == 0, added.stderr
    assert run.returncode == 1, run.stderr
    uploads = json.loads(status_json.stdout)["uploads"]
    assert [u["status"] for u in uploads] == ["failed"] * len(forms)
    assert all("Wrong key" in u["error_message"] for u in uploads)
    assert all("***" in u["error_message"] for u in uploads), [u["error_message"] for u in uploads]
    written = {
        p: p.read_bytes() for p in home.rglob("*") if p.is_file() and p.name != "config.toml"
    }
    logs = b"".join(data for p, data in written.items() if p.parent.name == "logs")
    assert b"Wrong key" in logs
    shown = {
        "run": run.stdout + run.stderr,
        "status": status.stdout,
        "status --json": status_json.stdout,
        **{str(p): data.decode("utf-8", "replace") for p, data in written.items()},
    }
    leaks = {where: m for where, text in shown.items() for m in markers if m in text}
    assert leaks == {}
