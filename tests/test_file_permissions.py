"""Every file the app creates is private (0600, directories 0700) even under umask 0; a credentials
file others can read is refused; temporary files do not outlive the command."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from filehost_tui.context import Context
from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.paths import AppPaths
from tests.cli_support import TIMEOUT, base_url_env, clean_env, cli

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")

KATFILE_KEY = "katfile-Perm-Key-1"
TEMP_SUFFIXES = (".part", ".tmp")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def loose_entries(root: Path, *, skip: tuple[str, ...] = ("config.toml",)) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*")):
        if path.name in skip:
            continue
        wanted = 0o700 if path.is_dir() else 0o600
        if mode(path) != wanted:
            bad.append(f"{path.relative_to(root)} {oct(mode(path))}")
    return bad


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(TEMP_SUFFIXES)]


def make_gallery(root: Path, size: int = 40_000) -> Path:
    gallery = root / "gallery"
    gallery.mkdir()
    for i in range(3):
        (gallery / f"img{i}.jpg").write_bytes(os.urandom(size))
    return gallery


def test_everything_the_app_creates_is_private_under_umask_0(tmp_path):
    home = tmp_path / "home"
    single = tmp_path / "notes.txt"
    single.write_text("hello")
    gallery = make_gallery(tmp_path)

    with FakeHost("xfs_api", credentials={"api_key": KATFILE_KEY}) as katfile:
        env = base_url_env("katfile", katfile)
        login = cli(home, "login", "katfile", env=env, stdin=KATFILE_KEY + "\n", umask=0)
        add = cli(home, "add", str(single), str(gallery), "--host", "katfile", env=env, umask=0)
        run = cli(home, "run", "--until-idle", env=env, umask=0)
        status = cli(home, "status", env=env, umask=0)

    assert login.returncode == 0, login.stderr
    assert add.returncode == 0 and run.returncode == 0 and status.returncode == 0, run.stdout
    created = [home / "credentials.toml", home / "filehost-tui.db", home / "logs"]
    assert all(p.exists() for p in created)
    assert not (home / "cache" / "archives").exists()  # the folder was streamed
    assert list((home / "logs").iterdir())
    assert loose_entries(home) == []
    assert temp_files(home) == []


def test_database_wal_and_shm_are_private_while_open(tmp_path, sample_file):
    paths = AppPaths.resolve(tmp_path / "home")
    previous = os.umask(0)
    try:
        ctx = Context(paths)
        ctx.queue.add([sample_file], ["catbox"])
        sidecars = [Path(f"{paths.database}-wal"), Path(f"{paths.database}-shm")]
        modes = {p.name: mode(p) for p in [paths.database, *sidecars] if p.exists()}
        ctx.close()
    finally:
        os.umask(previous)

    assert set(modes) == {"filehost-tui.db", "filehost-tui.db-wal", "filehost-tui.db-shm"}
    assert set(modes.values()) == {0o600}
    assert loose_entries(paths.data_dir) == []


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o620, 0o604])
def test_credentials_file_others_can_access_is_refused_with_the_fix(tmp_path, loose):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    creds = home / "credentials.toml"
    creds.write_text(f'[katfile]\napi_key = "{KATFILE_KEY}"\n')
    creds.chmod(loose)

    result = cli(home, "hosts", "katfile")

    assert result.returncode == 2 and result.stdout == ""
    assert f"run: chmod 600 {creds}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert KATFILE_KEY not in result.stderr


def test_runner_refuses_a_world_readable_credentials_file_and_uploads_nothing(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    creds = home / "credentials.toml"
    creds.write_text(f'[katfile]\napi_key = "{KATFILE_KEY}"\n')
    creds.chmod(0o644)
    sample = tmp_path / "a.bin"
    sample.write_bytes(b"a" * 1000)

    with FakeHost("xfs_api", credentials={"api_key": KATFILE_KEY}) as katfile:
        env = base_url_env("katfile", katfile)
        cli(home, "add", str(sample), "--host", "katfile", env=env)
        run = cli(home, "run", "--until-idle", env=env)
        creds.chmod(0o600)
        fixed = cli(home, "run", "--until-idle", env=env)
        received = len(katfile.received)

    assert run.returncode == 2 and "chmod 600" in run.stderr
    assert fixed.returncode == 0 and received == 1


def test_failed_login_writes_nothing_and_a_good_one_leaves_no_temp_file(tmp_path):
    """A failed login writes nothing; a good one replaces the file atomically, no temp left."""
    home = tmp_path / "home"
    with FakeHost("xfs_api", credentials={"api_key": KATFILE_KEY}) as katfile:
        env = base_url_env("katfile", katfile)
        wrong = cli(home, "login", "katfile", env=env, stdin="wrong-key-123\n", umask=0)
        after_wrong = sorted(p.name for p in home.rglob("*")) if home.exists() else []
        good = cli(home, "login", "katfile", env=env, stdin=KATFILE_KEY + "\n", umask=0)

    assert wrong.returncode == 2 and "credentials.toml" not in after_wrong
    assert good.returncode == 0
    assert sorted(p.name for p in home.iterdir()) == ["credentials.toml"]
    assert mode(home / "credentials.toml") == 0o600 and mode(home) == 0o700


def test_archives_are_removed_once_every_host_is_done(tmp_path):
    home = tmp_path / "home"
    gallery = make_gallery(tmp_path)
    with FakeHost("catbox") as catbox:
        env = base_url_env("catbox", catbox)
        cli(home, "add", str(gallery), "--host", "catbox", env=env)
        run = cli(home, "run", "--until-idle", env=env, umask=0)

    assert run.returncode == 0, run.stdout + run.stderr
    assert list((home / "cache").rglob("*.*")) == []
    assert loose_entries(home) == []


def test_interrupted_runner_leaves_no_temp_files_and_no_archive(tmp_path):
    home = tmp_path / "home"
    gallery = make_gallery(tmp_path, size=1_000_000)
    with FakeHost("catbox", throttle_bps=150_000) as catbox:
        env = base_url_env("catbox", catbox)
        cli(home, "add", str(gallery), "--host", "catbox", env=env)
        proc = subprocess.Popen(
            [sys.executable, "-m", "filehost_tui", "--home", str(home), "run"],
            env=clean_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=lambda: os.umask(0),
        )  # fmt: skip
        try:
            assert catbox.wait_for_attempts(1, timeout=TIMEOUT)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    status = json.loads(cli(home, "status", "--json").stdout)["uploads"]

    assert proc.returncode == 128 + signal.SIGTERM, out + err
    assert [u["status"] for u in status] == ["pending"]
    assert temp_files(home) == []
    assert not (home / "cache" / "archives").exists()  # the folder was streamed
    assert loose_entries(home) == []


def test_a_home_the_user_made_read_only_is_refused_not_chmodded(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o500)
    result = cli(home, "status")

    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert f"{home} is read-only (mode 0500)" in result.stderr and "chmod 700" in result.stderr
    assert mode(home) == 0o500 and list(home.iterdir()) == []


def test_a_home_created_under_a_umask_that_drops_write_is_made_usable(tmp_path):
    home = tmp_path / "home"
    result = cli(home, "status", umask=0o277)

    assert result.returncode == 0, result.stderr
    assert mode(home) == 0o700
