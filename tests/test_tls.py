"""TLS: verification is always on. A host with a certificate the system does not trust fails with the
`tls` error kind (final at once, never retried, with a hint to set ca_bundle); with `ca_bundle`
pointing at the host's CA the same upload succeeds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from filehost_tui.demo.fake_server import FakeHost
from tests.cli_support import base_url_env, cli, make_self_signed, serve_tls, write_config

RG = {"username": "alice@example.invalid", "password": "pw-Tls-Secret-1"}


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_self_signed(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def https_catbox(test_ca) -> Iterator[FakeHost]:
    with FakeHost("catbox") as fake:
        yield serve_tls(fake, *test_ca)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8" + b"jpeg" * 10_000)
    return path


def uploads(home: Path, env: dict[str, str]) -> list[dict]:
    result = cli(home, "status", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["uploads"]


def test_untrusted_certificate_fails_as_tls_once_and_is_not_retried(tmp_path, https_catbox, sample):
    home = tmp_path / "home"
    write_config(home, "[hosts.catbox]\nmax_retries = 5\nretry_delay = 0.1\n")
    env = base_url_env("catbox", https_catbox)
    assert https_catbox.base_url.startswith("https://127.0.0.1:")

    cli(home, "add", str(sample), "--host", "catbox", env=env)
    run = cli(home, "run", "--until-idle", env=env)

    [row] = uploads(home, env)
    assert run.returncode == 1
    assert row["status"] == "failed" and row["error_kind"] == "tls"
    assert row["retry_count"] == 0
    assert "ca_bundle" in row["error_message"] and "config.toml" in row["error_message"]
    assert run.stdout.count("started: photo.jpg") == 1
    assert "failed: photo.jpg -> catbox: tls:" in run.stdout
    assert https_catbox.received == [] and https_catbox.upload_attempts == 0


def test_ca_bundle_makes_the_same_upload_succeed(tmp_path, https_catbox, sample, test_ca):
    home = tmp_path / "home"
    env = base_url_env("catbox", https_catbox)
    cli(home, "add", str(sample), "--host", "catbox", env=env)
    assert cli(home, "run", "--until-idle", env=env).returncode == 1

    write_config(home, f'ca_bundle = "{test_ca[0]}"\n')
    retry = cli(home, "retry", "--failed", env=env)
    run = cli(home, "run", "--until-idle", env=env)

    [row] = uploads(home, env)
    assert retry.returncode == 0 and run.returncode == 0, run.stdout + run.stderr
    assert row["status"] == "completed" and row["error_kind"] is None
    assert row["download_url"].startswith(https_catbox.base_url + "/")
    assert len(https_catbox.received) == 1


def test_a_different_ca_does_not_make_the_host_trusted(tmp_path, https_catbox, sample):
    other_ca, _key = make_self_signed(tmp_path)
    home = tmp_path / "home"
    write_config(home, f'ca_bundle = "{other_ca}"\n')
    env = base_url_env("catbox", https_catbox)

    cli(home, "add", str(sample), "--host", "catbox", env=env)
    run = cli(home, "run", "--until-idle", env=env)

    [row] = uploads(home, env)
    assert run.returncode == 1 and row["error_kind"] == "tls" and row["retry_count"] == 0
    assert https_catbox.received == []


def test_missing_ca_bundle_file_is_refused_before_any_transfer(tmp_path, https_catbox, sample):
    home = tmp_path / "home"
    write_config(home, f'ca_bundle = "{tmp_path / "no-such-ca.pem"}"\n')
    env = base_url_env("catbox", https_catbox)

    added = cli(home, "add", str(sample), "--host", "catbox", env=env)

    assert added.returncode == 2
    assert added.stderr.count("\n") == 1
    assert "ca_bundle" in added.stderr and "no-such-ca.pem is not a file" in added.stderr


def test_hosts_check_reports_tls_and_succeeds_with_ca_bundle(tmp_path, test_ca):
    home = tmp_path / "home"
    with FakeHost("rapidgator", credentials=RG) as fake:
        serve_tls(fake, *test_ca)
        env = {
            **base_url_env("rapidgator", fake),
            "FILEHOST_TUI_RAPIDGATOR_USERNAME": RG["username"],
            "FILEHOST_TUI_RAPIDGATOR_PASSWORD": RG["password"],
        }
        untrusted = cli(home, "hosts", "rapidgator", "--check", "--json", env=env)
        write_config(home, f'ca_bundle = "{test_ca[0]}"\n')
        trusted = cli(home, "hosts", "rapidgator", "--check", "--json", env=env)

    bad = json.loads(untrusted.stdout)["hosts"][0]["check"]
    good = json.loads(trusted.stdout)["hosts"][0]["check"]
    assert untrusted.returncode == 1 and bad["status"] == "failed"
    assert bad["error_kind"] == "tls" and "ca_bundle" in bad["message"]
    assert RG["password"] not in untrusted.stdout
    assert trusted.returncode == 0 and good["status"] == "ok" and good["premium"] is True
