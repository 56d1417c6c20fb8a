"""File names that are not valid UTF-8 (common on old disks and archives unpacked elsewhere) are
queued and uploaded: the path is kept byte for byte, the host and every output get a safe name."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from filehost_tui.demo.fake_server import FakeHost
from tests.cli_support import base_url_env, cli

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file names are bytes")


def undecodable(directory: Path, raw: bytes) -> Path:
    return directory / os.fsdecode(raw)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request) -> dict[str, str]:
    """The environment that picks the database: none (SQLite in the home) or a PostgreSQL schema."""
    if request.param == "sqlite":
        return {}
    return {"FILEHOST_TUI_DATABASE_URL": request.getfixturevalue("pg_url")}


def test_files_folders_and_titles_with_undecodable_bytes_are_queued_and_uploaded(
    tmp_path, database
):
    data = tmp_path / "data"
    data.mkdir()
    file = undecodable(data, b"caf\xff.bin")
    file.write_bytes(b"x" * 1000)
    folder = undecodable(data, b"alb\xfeum")
    folder.mkdir()
    undecodable(folder, b"p\xfd.jpg").write_bytes(b"y" * 500)
    plain = data / "plain.bin"
    plain.write_bytes(b"z" * 300)
    home = tmp_path / "home"
    with FakeHost("catbox") as fake:
        env = {**base_url_env("catbox", fake), **database}
        adds = [
            cli(home, "add", str(file), "--host", "catbox", env=env),
            cli(home, "add", str(folder), "--host", "catbox", env=env),
            cli(
                home,
                "add",
                str(plain),
                "--host",
                "catbox",
                "--name",
                os.fsdecode(b"t\xfcl"),
                env=env,
            ),
        ]
        again = cli(home, "add", str(file), "--host", "catbox", env=env)
        ran = cli(home, "run", "--until-idle", env=env)
        status = json.loads(cli(home, "status", "--json", env=env).stdout)["uploads"]
        links = cli(home, "links", "--format", "markdown", env=env)

    assert [a.returncode for a in adds] == [0, 0, 0], [a.stderr for a in adds]
    assert [a.stdout.split(": ")[1] for a in adds] == [
        "caf_xff.bin -> catbox\n",
        "alb_xfeum -> catbox\n",
        "t_xfcl -> catbox\n",
    ]
    assert again.returncode == 2 and "caf\\xff.bin is already queued" in again.stderr
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert [(u["item"], u["status"]) for u in status] == [
        ("caf_xff.bin", "completed"),
        ("alb_xfeum", "completed"),
        ("t_xfcl", "completed"),
    ]
    received = {r.name: r for r in fake.received}
    assert sorted(received) == ["alb_xfeum.zip", "caf_xff.bin", "plain.bin"]
    assert received["caf_xff.bin"].md5 == hashlib.md5(file.read_bytes()).hexdigest()
    assert links.returncode == 0 and "[caf_xff.bin (catbox)](http" in links.stdout


def test_an_undecodable_file_that_vanished_fails_with_its_name_spelled_out(tmp_path):
    file = undecodable(tmp_path, b"gone\xff.bin")
    file.write_bytes(b"x" * 100)
    home = tmp_path / "home"
    with FakeHost("catbox") as fake:
        env = base_url_env("catbox", fake)
        assert cli(home, "add", str(file), "--host", "catbox", env=env).returncode == 0
        file.unlink()
        ran = cli(home, "run", "--until-idle", env=env)
        (upload,) = json.loads(cli(home, "status", "--json", env=env).stdout)["uploads"]

    assert ran.returncode == 1 and "Traceback" not in ran.stderr
    assert (upload["status"], upload["error_kind"]) == ("failed", "not_found")
    assert "gone\\xff.bin is gone" in upload["error_message"]
    assert "gone\\xff.bin is gone" in ran.stdout
    assert "gone\\xff.bin is gone" in (home / "logs" / "filehost-tui.log").read_text()
