"""Bad input found by outside testing: each is one line on stderr saying what to do, exit 2, and
the queue left as it was (real CLI in a subprocess)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.hosts.spec_loader import builtin_spec_files
from tests.cli_support import base_url_env, cli, write_config


def one_line_error(result) -> str:
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("filehost-tui: error: ")
    return result.stderr


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 100)
    return path


def test_add_to_a_host_whose_spec_is_broken_names_the_file_and_its_problem(home, small_file):
    catbox = next(p for p in builtin_spec_files() if p.stem == "catbox")
    spec = home / "hosts" / "copyname.toml"
    spec.parent.mkdir(parents=True)
    shutil.copy(catbox, spec)
    text = spec.read_text().replace('id = "catbox"', 'id = "copyname"')
    spec.write_text(text.replace("[result]", "[result]\nlnik = 'x'", 1))

    err = one_line_error(cli(home, "add", str(small_file), "--host", "copyname"))

    assert f"{spec}:" in err and "lnik" in err  # the file, then the line of the key
    assert "unknown host 'copyname': its spec did not load" in err
    assert cli(home, "status", "--json").stdout.count('"id"') == 0


def test_a_misspelled_host_table_in_config_is_an_error_at_load(home):
    write_config(home, "[limits]\nmax_concurrent = 2\n\n[hosts.rapidgatr]\nenabled = false\n")

    err = one_line_error(cli(home, "status"))

    assert "config.toml:4: [hosts.rapidgatr]: no host has id 'rapidgatr'" in err
    assert "did you mean [hosts.rapidgator]?" in err


@pytest.mark.parametrize(
    "url", ["catbox.moe", "ftp://catbox.moe", "https://", "http://host:port", "http://a b"]
)
def test_a_base_url_that_is_not_a_url_is_an_error_at_load(home, url):
    write_config(home, f'[hosts.catbox]\nbase_url = "{url}"\n')

    err = one_line_error(cli(home, "status"))

    assert f"config.toml:2: hosts.catbox.base_url = {url!r} is not a URL" in err


def test_a_base_url_from_the_environment_that_is_not_a_url_is_an_error(home):
    err = one_line_error(cli(home, "status", env={"FILEHOST_TUI_CATBOX_BASE_URL": "catbox"}))

    assert "FILEHOST_TUI_CATBOX_BASE_URL='catbox' is not a URL" in err


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{url.nope}", "{url.nope} is not a placeholder"),
        ("{url[0]}", "{url[0]} is not a placeholder"),
        ("{}", "{} is not a placeholder"),
        ("[url={url", "expected '}'"),
        ("{url:d}", "Unknown format code"),
    ],
)
def test_a_links_template_with_more_than_the_placeholders_is_an_error_at_load(
    home, template, problem
):
    write_config(home, f'[links]\nbbcode = "{template}"\n')

    err = one_line_error(cli(home, "status"))

    assert "config.toml:2: [links].bbcode: " in err and problem in err
    assert "{url}, {item}, {host}, {file_id}" in err or "literal brace" in err


NON_ASCII_KEY = "pd-Key-\u2019quoted\u00a0"  # a curly quote and a no-break space from a paste


def test_a_non_ascii_api_key_for_a_basic_auth_host_fails_as_auth_not_a_crash(home, small_file):
    with FakeHost("pixeldrain", credentials={"api_key": "k"}) as fake:
        env = {**base_url_env("pixeldrain", fake), "FILEHOST_TUI_PIXELDRAIN_API_KEY": NON_ASCII_KEY}
        assert cli(home, "add", str(small_file), "--host", "pixeldrain", env=env).returncode == 0
        ran = cli(home, "run", "--until-idle", env=env)
        (upload,) = json.loads(cli(home, "status", "--json").stdout)["uploads"]

        assert ran.returncode == 1 and "Traceback" not in ran.stderr
        assert (upload["status"], upload["error_kind"]) == ("failed", "auth")
        assert "api key holds non-ASCII characters" in upload["error_message"]
        assert "Basic auth" in upload["error_message"] and fake.received == []


def test_login_with_a_non_ascii_api_key_for_a_basic_auth_host_is_refused(home):
    result = cli(home, "login", "pixeldrain", stdin=f"{NON_ASCII_KEY}\n")
    err = result.stderr.splitlines()[-1]  # after the echoed prompt of piped input

    assert result.returncode == 2 and result.stdout == ""
    assert err.startswith("filehost-tui: error: the api key holds")
    assert "api key holds non-ASCII characters" in err and "nothing stored" in err
    assert not (home / "credentials.toml").exists()
