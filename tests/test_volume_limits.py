"""Which limit cuts an item into volumes: the account check's, and the user's `split_files`
opt-out. Real fake hosts on 127.0.0.1, the real CLI in-process, real SQLite."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
from pathlib import Path

import pytest

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.account_limits import read_account_limits
from filehost_tui.engine.models import FileHostUpload
from tests.cli_support import run_main
from tests.engine_harness import make_home, upload_all

SPLIT = 400_000
RG_CREDS = {"username": "alice@example.invalid", "password": "pw-Limits-Secret-1"}
XFS_KEY = "ddownload-key-0123456789"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def movie(tmp_path: Path, size: int = 2 * SPLIT + 5) -> tuple[Path, bytes]:
    data = os.urandom(size)
    path = tmp_path / "movie.mkv"
    path.write_bytes(data)
    return path, data


@pytest.fixture
def rapidgator(monkeypatch):
    """A Rapidgator whose account check says it takes files up to SPLIT bytes."""
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_USERNAME", RG_CREDS["username"])
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_PASSWORD", RG_CREDS["password"])
    with FakeHost("rapidgator", credentials=RG_CREDS, options={"max_file_size": SPLIT}) as fake:
        yield fake


def test_an_account_check_that_reports_a_small_limit_makes_add_split(tmp_path, capsys, rapidgator):
    path, data = movie(tmp_path)
    paths = make_home(tmp_path / "home", {"rapidgator": rapidgator})

    code, _, err = run_main(capsys, paths.data_dir, "hosts", "rapidgator", "--check")
    assert code == 0, err
    assert read_account_limits(paths.account_limits) == {"rapidgator": SPLIT}

    upload_all(paths, [path], ["rapidgator"], timeout=60)
    received = sorted(rapidgator.received, key=lambda f: f.name)
    assert [(f.name, f.size) for f in received] == [
        ("movie.mkv.001", SPLIT),
        ("movie.mkv.002", SPLIT),
        ("movie.mkv.003", 5),
    ]
    assert [f.md5 for f in received] == [
        md5(data[n : n + SPLIT]) for n in range(0, len(data), SPLIT)
    ]


def test_login_remembers_the_limit_its_check_reported(tmp_path, capsys, monkeypatch):
    home = tmp_path / "home"
    with FakeHost("rapidgator", credentials=RG_CREDS, options={"max_file_size": SPLIT}) as rg:
        paths = make_home(home, {"rapidgator": rg})
        typed = f"{RG_CREDS['username']}\n{RG_CREDS['password']}\n"
        monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
        code, out, err = run_main(capsys, home, "login", "rapidgator")
    assert code == 0, err
    assert "max file 391KiB" in out
    assert read_account_limits(paths.account_limits) == {"rapidgator": SPLIT}
    assert run_main(capsys, home, "add", str(movie(tmp_path)[0]), "--host", "rapidgator")[0] == 0
    assert [r.volumes for r in FileHostUpload.select()] == [3, 3, 3]


def test_a_later_check_without_the_small_limit_forgets_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_USERNAME", RG_CREDS["username"])
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_PASSWORD", RG_CREDS["password"])
    home = tmp_path / "home"
    for limit, remembered in (
        (SPLIT, {"rapidgator": SPLIT}),
        (50 * 2**30, {"rapidgator": 50 * 2**30}),
    ):
        with FakeHost("rapidgator", credentials=RG_CREDS, options={"max_file_size": limit}) as rg:
            paths = make_home(home, {"rapidgator": rg})
            assert run_main(capsys, home, "hosts", "rapidgator", "--check")[0] == 0
            assert read_account_limits(paths.account_limits) == remembered
    paths.account_limits.write_text("{not json")  # damaged: ignored, not an error at add
    assert run_main(capsys, home, "add", str(movie(tmp_path)[0]), "--host", "rapidgator")[0] == 0
    assert FileHostUpload.select().where(FileHostUpload.volumes == 0).count() == 1


def test_an_upload_queued_before_the_account_check_fails_before_sending_and_says_split_size(
    tmp_path, capsys, rapidgator
):
    path, _ = movie(tmp_path)
    paths = make_home(tmp_path / "home", {"rapidgator": rapidgator})
    code, _, err = run_main(capsys, paths.data_dir, "add", str(path), "--host", "rapidgator")
    assert code == 0, err
    assert run_main(capsys, paths.data_dir, "hosts", "rapidgator", "--check")[0] == 0

    code, out, err = run_main(capsys, paths.data_dir, "run", "--until-idle")

    assert code == 1
    row = FileHostUpload.get()
    assert (row.status, row.error_kind) == ("failed", "too_large")
    assert row.error_message == (
        f"781KiB is over rapidgator's limit of 391KiB (from its last account check); "
        f"set split_size = {SPLIT} under [hosts.rapidgator] in config.toml, then cancel "
        f"upload {row.id} and add {path} again to send it as volumes"
    )
    assert rapidgator.received == [] and rapidgator.upload_attempts == 0


def test_a_host_that_refuses_a_volume_as_too_large_says_to_set_split_size(tmp_path, monkeypatch):
    path, _ = movie(tmp_path)
    monkeypatch.setenv("FILEHOST_TUI_DDOWNLOAD_API_KEY", XFS_KEY)
    creds = {"api_key": XFS_KEY}
    with FakeHost("xfs_api", credentials=creds, options={"max_file_size": SPLIT}) as fake:
        # volumes of 2 * SPLIT: the account takes SPLIT, and no check told `add` so
        settings = {"ddownload": f"split_size = {2 * SPLIT}\nmax_connections = 1"}
        paths = make_home(tmp_path / "home", {"ddownload": fake}, settings)
        ids = upload_all(paths, [path], ["ddownload"], timeout=60)
        rows = [FileHostUpload.get_by_id(i) for i in ids]
        assert [(r.volume, r.status, r.error_kind) for r in rows] == [
            (1, "failed", "too_large"),
            (2, "completed", None),
        ]
        assert rows[0].error_message == (
            "ddownload: upload: file too big for this account (max 0 Mb); set split_size under [hosts.ddownload] "
            f"in config.toml to a size it takes, then cancel upload {rows[0].id} and add {path} "
            "again to send it as volumes"
        )


def test_with_split_files_off_a_file_over_the_limit_is_refused_at_add(tmp_path, capsys):
    path, _ = movie(tmp_path)
    folder = tmp_path / "Trip"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(os.urandom(2 * SPLIT))
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f"[limits]\nsplit_files = false\n[hosts.catbox]\nmax_file_size = {SPLIT}\n"
    )

    code, out, err = run_main(capsys, home, "add", str(folder), str(path), "--host", "catbox")

    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert (
        f"{path}: 781KiB is over catbox's limit of 391KiB (max_file_size in config.toml) and "
        "split_files = false under [limits] in config.toml; pick another host, or remove that "
        "line to send it as volumes"
    ) in err
    assert run_main(capsys, home, "status", "--json")[1] == '{"uploads": []}\n'
    # the folder alone is still cut: its ZIP is ours to split
    assert run_main(capsys, home, "add", str(folder), "--host", "catbox")[0] == 0
    status = json.loads(run_main(capsys, home, "status", "--json")[1])
    assert [u["volumes"] for u in status["uploads"]] == [3, 3, 3]


def test_with_split_files_off_a_file_over_split_size_but_within_the_limit_goes_whole(
    tmp_path, capsys
):
    path, _ = movie(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f"[limits]\nsplit_files = false\n[hosts.catbox]\nsplit_size = {SPLIT}\n"
    )

    assert run_main(capsys, home, "add", str(path), "--host", "catbox")[0] == 0
    status = json.loads(run_main(capsys, home, "status", "--json")[1])
    assert [(u["volumes"], u["total_bytes"]) for u in status["uploads"]] == [(0, 2 * SPLIT + 5)]


def test_split_files_must_be_true_or_false(tmp_path, capsys):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text("[limits]\nsplit_files = 'no'\n")

    code, out, err = run_main(capsys, home, "status")

    assert code == 2 and out == "" and err.count("\n") == 1
    assert "config.toml:2: limits.split_files must be a bool" in err
