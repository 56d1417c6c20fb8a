"""Uploads for a disabled host wait, and every command says so: `add` warns (exit 0), `status`
reads "waiting: host disabled" and says how to enable it, `status --json` keeps the state name and
adds `waiting_reason`. Also `hosts`: names are listed whole. The real CLI, in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_support import cli


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text("[hosts.katfile]\nenabled = false\n", encoding="utf-8")
    return home


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"j" * 1000)
    return path


def test_add_for_a_disabled_host_queues_and_warns_on_stderr(home, photo):
    done = cli(home, "add", str(photo), "--host", "katfile", "--host", "catbox")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "queued upload 1: photo.jpg -> katfile",
        "queued upload 2: photo.jpg -> catbox",
    ]
    assert done.stderr.splitlines() == [
        "filehost-tui: warning: host katfile is disabled, so these uploads wait; set enabled = "
        f"true under [hosts.katfile] in {home / 'config.toml'}, then restart the runner or the TUI"
    ]


def test_add_for_an_enabled_host_says_nothing_on_stderr(home, photo):
    done = cli(home, "add", str(photo), "--host", "catbox")
    assert (done.returncode, done.stderr) == (0, "")


def test_status_says_why_an_upload_waits_and_json_keeps_the_state_name(home, photo):
    assert cli(home, "add", str(photo), "--host", "katfile", "--host", "catbox").returncode == 0

    text = cli(home, "status")
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert lines[0].split()[:6] == ["1", "photo.jpg", "katfile", "waiting:", "host", "disabled"]
    assert lines[1].split()[:4] == ["2", "photo.jpg", "catbox", "pending"]
    assert lines[2] == (
        "uploads for katfile wait: the host is disabled; set enabled = true under "
        f"[hosts.katfile] in {home / 'config.toml'}, then restart the runner or the TUI"
    )

    document = json.loads(cli(home, "status", "--json").stdout)
    got = [(u["host"], u["status"], u["waiting_reason"]) for u in document["uploads"]]
    assert got == [("katfile", "pending", "host disabled"), ("catbox", "pending", None)]
    jsonl = [json.loads(line) for line in cli(home, "status", "--jsonl").stdout.splitlines()]
    assert [u["waiting_reason"] for u in jsonl] == ["host disabled", None]


def test_hosts_lists_every_name_whole(tmp_path):
    done = cli(tmp_path / "home", "hosts")
    assert done.returncode == 0
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("0x0 ")]
    assert "0x0 (The Null Pointer)" in line  # 22 characters: cut to 14 before
    header = done.stdout.splitlines()[0]
    assert line.index("yes") == header.index("ENABLED")
