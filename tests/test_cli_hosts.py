"""`filehost-tui hosts [--check] [--json]` against real fake hosts on 127.0.0.1; and the size limit
at `add` time through the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.hosts.spec_loader import load_specs
from tests.cli_support import base_url_env, cli, run_main, write_config

RG_CREDS = {"username": "alice@example.invalid", "password": "pw-Hosts-Secret-1"}
BUILTIN = load_specs(None).specs
ROW_KEYS = {
    "id", "name", "family", "builtin", "source", "enabled", "credentials", "credential_fields",
    "required_credentials", "base_url", "max_file_size", "max_connections", "check",
}  # fmt: skip
CHECK_KEYS = {
    "status", "error_kind", "message", "verified", "premium", "storage_left", "max_file_size",
}  # fmt: skip


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def rapidgator(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHost]:
    with FakeHost("rapidgator", credentials=RG_CREDS) as fake:
        monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_BASE_URL", fake.base_url)
        yield fake


def hosts_json(capsys, home: Path, *args: str) -> tuple[int, dict, str]:
    code, out, err = run_main(capsys, home, "hosts", "--json", *args)
    return code, json.loads(out), err


def by_id(document: dict) -> dict[str, dict]:
    return {row["id"]: row for row in document["hosts"]}


def test_hosts_lists_every_builtin_host_with_state_and_base_url(capsys, home, monkeypatch):
    monkeypatch.setenv("FILEHOST_TUI_KATFILE_API_KEY", "katfile-key-from-env")
    monkeypatch.setenv("FILEHOST_TUI_KATFILE_BASE_URL", "http://127.0.0.1:9")

    code, doc, err = hosts_json(capsys, home)

    rows = by_id(doc)
    assert code == 0 and err == ""
    assert set(rows) == set(BUILTIN)
    assert [r["id"] for r in doc["hosts"]] == sorted(BUILTIN)
    assert all(set(r) == ROW_KEYS for r in doc["hosts"])
    assert rows["katfile"]["credentials"] == "env"
    assert rows["katfile"]["base_url"] == "http://127.0.0.1:9"
    assert rows["rapidgator"]["credentials"] == "missing"
    assert rows["rapidgator"]["base_url"] == BUILTIN["rapidgator"].base_url
    assert rows["catbox"]["credentials"] == "none"  # optional userhash, anonymous uploads
    assert rows["0x0"]["base_url"] is None
    assert rows["rapidgator"]["name"] == BUILTIN["rapidgator"].name
    assert rows["catbox"]["max_file_size"] == BUILTIN["catbox"].max_file_size
    assert all(r["builtin"] and r["enabled"] and r["check"] is None for r in rows.values())
    assert "katfile-key-from-env" not in json.dumps(doc)


def test_hosts_text_table_names_state_and_base_url(capsys, home, monkeypatch):
    monkeypatch.setenv("FILEHOST_TUI_PIXELDRAIN_API_KEY", "pixel-key-123456")

    code, out, _err = run_main(capsys, home, "hosts", "pixeldrain", "0x0")

    lines = out.splitlines()
    assert code == 0 and len(lines) == 3 and lines[0].split()[:4] == [
        "ID", "NAME", "ENABLED", "CREDENTIALS",
    ]  # fmt: skip
    assert lines[1].startswith("pixeldrain") and " env " in lines[1]
    assert BUILTIN["pixeldrain"].base_url in lines[1]
    assert lines[2].startswith("0x0") and "set base_url" in lines[2]
    assert "pixel-key-123456" not in out


def test_user_spec_is_listed_and_a_broken_one_warns_on_stderr(capsys, home):
    hosts_dir = home / "hosts"
    hosts_dir.mkdir(parents=True)
    catbox = BUILTIN["catbox"].source
    assert catbox is not None
    mirror = catbox.read_text().replace('id = "catbox"', 'id = "mybox"')
    (hosts_dir / "mybox.toml").write_text(mirror.replace("https://catbox.moe", "http://box.test"))
    (hosts_dir / "broken.toml").write_text('id = "broken"\nname = "Broken"\n')

    code, doc, err = hosts_json(capsys, home)

    rows = by_id(doc)
    assert code == 0
    assert rows["mybox"]["builtin"] is False
    assert rows["mybox"]["source"] == str(hosts_dir / "mybox.toml")
    assert rows["mybox"]["base_url"] == "http://box.test"
    assert "broken" not in rows
    assert err.startswith("filehost-tui: warning: ") and "broken.toml" in err
    assert len(doc["errors"]) == 1 and "broken.toml" in doc["errors"][0]


def test_disabled_host_is_shown_disabled_and_not_checked(capsys, home, rapidgator, monkeypatch):
    write_config(home, "[hosts.rapidgator]\nenabled = false\n")
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_USERNAME", RG_CREDS["username"])
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_PASSWORD", RG_CREDS["password"])

    code, doc, _err = hosts_json(capsys, home, "rapidgator", "--check")

    row = by_id(doc)["rapidgator"]
    assert code == 0
    assert row["enabled"] is False and row["check"]["status"] == "not_checked"
    assert rapidgator.login_count == 0


def test_check_reports_premium_storage_and_max_file_size(capsys, home, rapidgator, monkeypatch):
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_USERNAME", RG_CREDS["username"])
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_PASSWORD", RG_CREDS["password"])

    code, doc, _err = hosts_json(capsys, home, "rapidgator", "--check")
    text_code, out, _ = run_main(capsys, home, "hosts", "rapidgator", "--check")

    check = by_id(doc)["rapidgator"]["check"]
    assert code == 0 and text_code == 0
    assert set(check) == CHECK_KEYS
    assert check["status"] == "ok" and check["verified"] is True and check["premium"] is True
    assert check["storage_left"] == 4 * 2**40 and check["max_file_size"] == 50 * 2**30
    assert "credentials ok, premium, 4.0TiB storage left, max file 50GiB" in out
    assert rapidgator.login_count == 2


def test_check_with_wrong_password_fails_as_auth_and_exits_1(capsys, home, rapidgator, monkeypatch):
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_USERNAME", RG_CREDS["username"])
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_PASSWORD", "not-the-Password-9")

    code, doc, _err = hosts_json(capsys, home, "rapidgator", "--check")

    check = by_id(doc)["rapidgator"]["check"]
    assert code == 1
    assert check["status"] == "failed" and check["error_kind"] == "auth"
    assert "not-the-Password-9" not in json.dumps(doc)


def test_check_skips_hosts_without_credentials_or_server_and_does_not_fail(capsys, home):
    code, doc, _err = hosts_json(capsys, home, "katfile", "0x0", "catbox", "--check")

    rows = by_id(doc)
    assert code == 0
    assert rows["katfile"]["check"]["status"] == "not_checked"
    assert "filehost-tui login katfile" in rows["katfile"]["check"]["message"]
    assert rows["0x0"]["check"]["status"] == "not_checked"
    assert "base_url" in rows["0x0"]["check"]["message"]
    # Anonymous host: nothing to verify, which is not a failure.
    assert rows["catbox"]["check"]["status"] == "ok"
    assert rows["catbox"]["check"]["verified"] is False


def test_check_of_unreachable_host_fails_as_network(capsys, home, monkeypatch):
    with FakeHost("k2s") as fake:
        url = fake.base_url  # the port is closed once the fake stops
    monkeypatch.setenv("FILEHOST_TUI_KEEP2SHARE_BASE_URL", url)
    monkeypatch.setenv("FILEHOST_TUI_KEEP2SHARE_ACCESS_TOKEN", "k2s-token-Secret-2")

    code, doc, _err = hosts_json(capsys, home, "keep2share", "--check")

    check = by_id(doc)["keep2share"]["check"]
    assert code == 1 and check["status"] == "failed" and check["error_kind"] == "network"
    assert "k2s-token-Secret-2" not in json.dumps(doc)


def test_unknown_host_id_is_bad_input(capsys, home):
    code, out, err = run_main(capsys, home, "hosts", "nosuchhost")

    assert code == 2 and out == ""
    assert "unknown host 'nosuchhost'" in err and "rapidgator" in err


def test_a_file_one_byte_over_the_host_limit_is_queued_as_two_volumes(capsys, home, tmp_path):
    limit = BUILTIN["catbox"].max_file_size
    assert limit is not None
    big = tmp_path / "big.bin"
    with big.open("wb") as fh:  # sparse: costs no disk space
        fh.truncate(limit + 1)

    code, out, _err = run_main(capsys, home, "add", str(big), "--host", "catbox")
    status_code, status_out, _ = run_main(capsys, home, "status", "--json")

    assert code == 0 and out.count("big.bin -> catbox") == 2
    rows = json.loads(status_out)["uploads"]
    assert [(r["volume"], r["volumes"], r["total_bytes"]) for r in rows] == [
        (1, 2, limit),
        (2, 2, 1),
    ]


def test_file_at_the_host_limit_is_accepted(capsys, home, tmp_path):
    limit = BUILTIN["catbox"].max_file_size
    assert limit is not None
    edge = tmp_path / "edge.bin"
    with edge.open("wb") as fh:
        fh.truncate(limit)

    code, out, _err = run_main(capsys, home, "add", str(edge), "--host", "catbox")

    assert code == 0 and "queued upload 1: edge.bin -> catbox" in out


def test_api_key_variable_names_the_single_secret_of_a_host_that_calls_it_otherwise(tmp_path):
    token = "k2s-Env-Token-9"
    upload = tmp_path / "a.bin"
    upload.write_bytes(b"k" * 5000)
    home = tmp_path / "home"
    with FakeHost("k2s", credentials={"access_token": token}) as fake:
        env = {**base_url_env("keep2share", fake), "FILEHOST_TUI_KEEP2SHARE_API_KEY": token}
        listed = cli(home, "hosts", "keep2share", "--json", env=env)
        assert cli(home, "add", str(upload), "--host", "keep2share", env=env).returncode == 0
        ran = cli(home, "run", "--until-idle", env=env)

        assert json.loads(listed.stdout)["hosts"][0]["credentials"] == "env"
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert [r.size for r in fake.received] == [5000]
        assert token not in ran.stdout + ran.stderr
