"""`hosts test ID` and `hosts validate FILE` against real fake hosts of every family on 127.0.0.1.

The trace is the interpreter's own observer hook, so the requests it prints are compared with the
requests the fake host answered, one for one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from filehost_tui.config import HostSettings, env_key
from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.hosts.client import HostClient
from filehost_tui.hosts.spec_loader import builtin_spec_files, load_specs
from filehost_tui.hosts.trace import RequestSent, TraceEvent, ValuesExtracted
from filehost_tui.secret import Secret
from tests.cli_support import run_main, write_config
from tests.host_harness import CREDENTIALS, FAKE_OPTIONS, FAMILY_OF

SPECS = load_specs(None).specs
REQUEST_LINE = re.compile(r"^(\S+): (GET|POST|PUT) (http://\S+) -> (\d{3}) in \d+\.\d\d s$")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


class Served:
    """A built-in host's fake family, with the environment pointing the host at it."""

    def __init__(self, host_id: str, monkeypatch: pytest.MonkeyPatch, **creds: str) -> None:
        spec = SPECS[host_id]
        self.creds = creds or {k: v for k, v in CREDENTIALS.items() if k in spec.credential_fields}
        self.fake = FakeHost(
            FAMILY_OF[host_id], credentials=self.creds, options=FAKE_OPTIONS.get(host_id)
        ).start()
        monkeypatch.setenv(env_key(host_id, "BASE_URL"), self.fake.base_url)
        for field, value in self.creds.items():
            monkeypatch.setenv(env_key(host_id, field.upper()), value)


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    started: list[Served] = []

    def start(host_id: str, **creds: str) -> Served:
        started.append(Served(host_id, monkeypatch, **creds))
        return started[-1]

    yield start
    for served in started:
        served.fake.stop()


def traced_requests(out: str) -> list[tuple[str, str, str, int]]:
    """(step, method, path, status) of each request line printed."""
    found = []
    for line in out.splitlines():
        if match := REQUEST_LINE.match(line):
            step, method, url, status = match.groups()
            found.append((step, method, urlsplit(url).path, int(status)))
    return found


def answered(fake: FakeHost) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in fake.requests]


def sent_file(out: str) -> Path:
    match = re.search(r"the file sent is (.+)$", out, re.M)
    assert match, out
    return Path(match.group(1))


def assert_no_secret(served: Served, *texts: str) -> None:
    for secret in served.creds.values():
        assert all(secret not in text for text in texts), secret


# ---- hosts test ------------------------------------------------------------------------------


@pytest.mark.parametrize("host_id", sorted(FAMILY_OF))
def test_hosts_test_uploads_to_each_family_and_prints_every_step_and_the_link(
    capsys, home, serve, host_id
) -> None:
    served = serve(host_id)
    spec = SPECS[host_id]

    code, out, err = run_main(capsys, home, "hosts", "test", host_id)

    assert code == 0 and err == "", err
    requests = traced_requests(out)
    assert [(m, p, s) for _, m, p, s in requests] == answered(served.fake)
    login = (
        [s.name for s in spec.auth.before_login] + [spec.auth.login.name]
        if spec.auth.login is not None
        else []
    )
    assert [step for step, *_ in requests] == login + [s.name for s in spec.steps]
    for step in spec.steps:
        for name, extract in step.extract.items():
            assert extract.optional or f"\n  {name}=" in out, (step.name, name)
    [received] = served.fake.received
    link = re.search(r"^link: (\S+)$", out, re.M)
    assert link and link.group(1).startswith(served.fake.base_url + "/")
    path = sent_file(out)
    assert path.is_file() and path.stat().st_size == 1024 * 1024
    assert received.md5 == hashlib.md5(path.read_bytes()).hexdigest()
    assert "nothing was deleted" in out
    assert_no_secret(served, out, err)


def test_hosts_test_masks_credentials_and_tokens_in_urls_and_values(capsys, home, serve) -> None:
    served = serve("rapidgator")

    code, out, _err = run_main(capsys, home, "hosts", "test", "rapidgator", "--size", "64K")

    assert code == 0
    assert "password=***" in out and "token=***" in out
    assert f"token={served.fake.base_url}" not in out
    assert_no_secret(served, out)


def test_hosts_test_shows_each_poll_request(capsys, home, serve) -> None:
    served = serve("rapidgator")
    served.fake.inject("processing", times=2)

    code, out, _err = run_main(capsys, home, "hosts", "test", "rapidgator", "--size", "64K")

    assert code == 0
    steps = [step for step, *_ in traced_requests(out)]
    assert steps.count("upload_info") == 3
    assert [(m, p, s) for _, m, p, s in traced_requests(out)] == answered(served.fake)


def test_hosts_test_sends_the_given_file(capsys, home, serve, tmp_path) -> None:
    served = serve("catbox")
    given = tmp_path / "holiday photos.zip"
    given.write_bytes(b"not really a zip" * 1000)

    code, out, _err = run_main(capsys, home, "hosts", "test", "catbox", "--file", str(given))

    assert code == 0
    [received] = served.fake.received
    assert received.md5 == hashlib.md5(given.read_bytes()).hexdigest()
    assert sent_file(out) == given


def test_hosts_test_generates_the_size_asked_for(capsys, home, serve) -> None:
    served = serve("pixeldrain")

    code, out, _err = run_main(capsys, home, "hosts", "test", "pixeldrain", "--size", "300K")

    assert code == 0
    [received] = served.fake.received
    assert received.size == 300 * 1024 == sent_file(out).stat().st_size


@pytest.mark.parametrize(
    ("host_id", "creds"),
    [
        ("katfile", {"api_key": "not-the-Key-12345"}),
        ("rapidgator", {"username": "alice@example.invalid", "password": "wrong-Pass-777"}),
    ],
)
def test_hosts_test_exits_1_when_the_host_refuses_the_credentials(
    capsys, home, serve, monkeypatch, host_id, creds
) -> None:
    served = serve(host_id)
    for field, value in creds.items():
        monkeypatch.setenv(env_key(host_id, field.upper()), value)

    code, out, err = run_main(capsys, home, "hosts", "test", host_id, "--size", "64K")

    assert code == 1
    assert err.startswith(f"filehost-tui: hosts test {host_id} failed (auth): ")
    assert len(err.splitlines()) == 1 and "link:" not in out
    assert traced_requests(out), "the refused request is shown"
    assert_no_secret(served, out, err)
    assert all(value not in out + err for value in creds.values())


def test_hosts_test_shows_the_failing_reply_then_exits_1(capsys, home, serve) -> None:
    served = serve("gofile")
    served.fake.inject("status", status=503)

    code, out, err = run_main(capsys, home, "hosts", "test", "gofile", "--size", "64K")

    assert code == 1
    assert traced_requests(out)[-1][-1] == 503
    assert "failed (server)" in err


def test_a_spec_written_from_a_builtin_can_be_validated_then_tested(
    capsys, home, serve, monkeypatch
) -> None:
    served = serve("catbox")
    hosts_dir = home / "hosts"
    hosts_dir.mkdir(parents=True)
    source = SPECS["catbox"].source
    assert source is not None
    mine = hosts_dir / "mybox.toml"
    mine.write_text(source.read_text().replace('id = "catbox"', 'id = "mybox"'))
    monkeypatch.setenv(env_key("mybox", "BASE_URL"), served.fake.base_url)

    valid_code, valid_out, _ = run_main(capsys, home, "hosts", "validate", str(mine))
    code, out, err = run_main(capsys, home, "hosts", "test", "mybox", "--size", "64K")

    assert valid_code == 0 and f"{mine}: ok: host mybox" in valid_out
    assert "to use it" not in valid_out  # already where user specs live
    assert code == 0 and err == "" and len(served.fake.received) == 1


GOOD_OVERRIDE = """id = "catbox"
name = "catbox.moe"
family = "catbox"
base_url = "https://catbox.moe"

[[steps]]
name = "upload"
method = "POST"
url = "/user/api.php"
file_field = "fileToUpload"
[steps.extract]
link = { body = true, regex = '(\\S+)' }

[result]
url = "{link}"
"""
BROKEN_OVERRIDE = GOOD_OVERRIDE.replace("(\\S+)", "(unclosed")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["nosuchhost"], "unknown host 'nosuchhost'"),
        (["katfile"], "no api_key for katfile: run `filehost-tui login katfile`"),
        (["0x0"], "no server for host 0x0: set base_url"),
        (["catbox", "--size", "lots"], "--size 'lots' is not a size"),
        (["catbox", "--size", "0"], "--size '0' is not a size"),
        (["catbox", "--file", "/nonexistent/file.bin"], "not a readable file"),
        (["catbox", "--file", "x", "--size", "1M"], "give --file or --size, not both"),
        ([], "usage: filehost-tui hosts test ID"),
        (["catbox", "--json"], "takes no --check or --json"),
    ],
)
def test_hosts_test_bad_input_is_one_line_and_exit_2(capsys, home, args, says) -> None:
    code, out, err = run_main(capsys, home, "hosts", "test", *args)

    assert code == 2 and out == ""
    assert err.startswith("filehost-tui: error: ") and says in err and err.count("\n") == 1, err


def test_hosts_test_of_a_broken_user_spec_names_file_line_and_key(capsys, home, serve) -> None:
    served = serve("catbox")
    broken = home / "hosts" / "catbox.toml"
    broken.parent.mkdir(parents=True)
    broken.write_text(BROKEN_OVERRIDE)

    code, out, err = run_main(capsys, home, "hosts", "test", "catbox")

    assert code == 2 and out == ""
    assert err.startswith(
        f"filehost-tui: error: {broken}:12: steps[0].extract.link.regex: bad regex"
    ), err
    assert err.count("\n") == 1
    assert served.fake.requests == []  # the built-in it would have replaced was not used either


def test_file_and_size_belong_to_hosts_test(capsys, home) -> None:
    code, _out, err = run_main(capsys, home, "hosts", "catbox", "--size", "1M")
    assert code == 2 and "--file and --size go with `hosts test ID`" in err


# ---- hosts validate --------------------------------------------------------------------------


@pytest.mark.parametrize("path", builtin_spec_files(), ids=lambda p: p.stem)
def test_validate_accepts_every_builtin_spec_without_network(capsys, home, path) -> None:
    code, out, err = run_main(capsys, home, "hosts", "validate", str(path))

    spec = load_specs(None).specs[path.stem]
    assert code == 0 and err == ""
    assert out.startswith(f"{path}: ok: host {spec.id} ({spec.name}), steps: ")
    assert "to use it, copy it to " in out


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (BROKEN_OVERRIDE, ":12: steps[0].extract.link.regex: bad regex"),
        (GOOD_OVERRIDE.replace('url = "{link}"', 'url = "{lnk}"'), ":15: result.url: "),
        (GOOD_OVERRIDE.replace('family = "catbox"\n', ""), ": family: missing required key"),
        (GOOD_OVERRIDE.replace("[result]", "[result"), ": invalid TOML: "),
    ],
    ids=["bad_regex", "undefined_variable", "missing_key", "invalid_toml"],
)
def test_validate_names_file_line_and_key_and_exits_2(capsys, home, tmp_path, text, where) -> None:
    spec = tmp_path / "mine.toml"
    spec.write_text(text)

    code, out, err = run_main(capsys, home, "hosts", "validate", str(spec))

    assert code == 2 and out == ""
    assert err.startswith(f"filehost-tui: error: {spec}{where}"), err
    assert err.count("\n") == 1


def test_validate_of_a_missing_file_exits_2(capsys, home, tmp_path) -> None:
    code, _out, err = run_main(capsys, home, "hosts", "validate", str(tmp_path / "nope.toml"))
    assert code == 2 and "no such spec file" in err


def test_validate_reads_no_config_dir_hosts_and_needs_no_server(capsys, home) -> None:
    write_config(home, "")
    zero = next(p for p in builtin_spec_files() if p.stem == "0x0")
    code, _out, _err = run_main(capsys, home, "hosts", "validate", str(zero))
    assert code == 0  # 0x0 has no server; validating does not need one


# ---- the interpreter's hook ------------------------------------------------------------------


def test_the_observer_sees_every_request_the_host_answered_and_every_extraction(
    tmp_path,
) -> None:
    spec = SPECS["filespace"]
    creds = {k: v for k, v in CREDENTIALS.items() if k in spec.credential_fields}
    sample = tmp_path / "sample.bin"
    sample.write_bytes(b"x" * 100_000)
    events: list[TraceEvent] = []
    with FakeHost(FAMILY_OF["filespace"], credentials=creds) as fake:
        client = HostClient(
            spec, HostSettings(base_url=fake.base_url), {k: Secret(v) for k, v in creds.items()}
        )
        result = client.upload(
            sample, name=sample.name, progress=lambda d, t: False, observer=events.append
        )
        seen = [
            (e.method, urlsplit(e.url).path, e.status) for e in events if isinstance(e, RequestSent)
        ]
        assert seen == answered(fake)
    extracted = {
        k: v for e in events if isinstance(e, ValuesExtracted) for k, v in e.values.items()
    }
    assert set(extracted) == {"token", "upload_url", "sess_id", "file_code"}
    assert result.url.endswith("/" + extracted["file_code"])
