"""The command line: the newcomer's path, and a one-line error with exit 2 for every bad input."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from filehost_tui.cli.main import main
from tests.cli_support import TIMEOUT, clean_env


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "somefolder"
    path.mkdir()
    (path / "a.jpg").write_bytes(b"a" * 100)
    return path


def fh(home: Path, *args: str) -> int:
    return main(["--home", str(home), *args])


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("filehost-tui: error: ")
    return err


def test_newcomer_adds_a_folder_and_sees_it_in_status(home, folder, capsys):
    assert fh(home, "add", str(folder), "--host", "rapidgator") == 0
    assert "queued upload 1: somefolder -> rapidgator" in capsys.readouterr().out
    assert fh(home, "status") == 0
    line = capsys.readouterr().out.strip()
    assert line.split()[:4] == ["1", "somefolder", "rapidgator", "pending"]
    assert fh(home, "status", "--json") == 0
    (upload,) = json.loads(capsys.readouterr().out)["uploads"]
    keys = ("id", "item", "host", "status", "total_bytes", "volume", "volumes")
    assert {k: upload[k] for k in keys} == {
        "id": 1,
        "item": "somefolder",
        "host": "rapidgator",
        "status": "pending",
        "total_bytes": 224,  # the folder's 100 bytes as a ZIP: what goes on the wire
        "volume": 0,
        "volumes": 0,
    }
    assert set(upload) >= {
        "item_id",
        "uploaded_bytes",
        "retry_count",
        "error_kind",
        "error_message",
        "download_url",
        "file_id",
    }


def test_control_commands_change_status_and_refuse_illegal_moves(home, folder, capsys):
    fh(home, "add", str(folder), "--host", "rapidgator", "--host", "katfile")
    capsys.readouterr()
    assert fh(home, "pause", "1") == 0
    assert fh(home, "cancel", "--host", "katfile") == 0
    assert fh(home, "resume", "--all") == 0
    assert "upload 1: pending" in capsys.readouterr().out
    assert fh(home, "resume", "2") == 2
    out, err = capsys.readouterr()
    assert out == ""  # a refusal is an error: on stderr, one line, like every exit 2
    assert err.count("\n") == 1 and "upload 2 is cancelled; cannot resume it" in err
    assert fh(home, "retry", "2") == 0
    capsys.readouterr()
    fh(home, "status", "--json")
    assert [u["status"] for u in json.loads(capsys.readouterr().out)["uploads"]] == [
        "pending",
        "pending",
    ]


def test_links_and_stats_on_an_empty_queue(home, capsys):
    assert fh(home, "links", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert fh(home, "stats", "--json", "--period", "24h") == 0
    stats = json.loads(capsys.readouterr().out)
    assert (sorted(stats), stats["period"], stats["hosts"]) == (
        ["hosts", "period", "total"],
        "24h",
        {},
    )
    assert stats["total"] == {
        "files": 0,
        "failed": 0,
        "bytes": 0,
        "avg_bytes_per_s": 0.0,
        "peak_bytes_per_s": 0.0,
        "success_rate": None,
    }


BAD_ADDS = [
    (["{tmp}/missing"], "no such file or folder"),
    (["{tmp}/empty"], "the folder is empty"),
    (["{folder}", "--host", "nosuchhost"], "unknown host 'nosuchhost'"),
    (["{folder}", "--host", "0x0"], "host 0x0 has no server: set base_url"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_ADDS)
def test_bad_add_is_one_line_exit_2_and_leaves_the_database_unchanged(
    home, folder, tmp_path, capsys, argv, message
):
    (tmp_path / "empty").mkdir()
    fh(home, "add", str(folder), "--host", "katfile")
    capsys.readouterr()
    db = home / "filehost-tui.db"
    before = db.read_bytes()
    args = [a.format(tmp=tmp_path, folder=folder) for a in argv]
    if "--host" not in args:
        args += ["--host", "rapidgator"]
    assert fh(home, "add", *args) == 2
    assert message in one_line_error(capsys)
    assert db.read_bytes() == before


def test_duplicate_item_and_host_is_refused(home, folder, capsys):
    fh(home, "add", str(folder), "--host", "katfile")
    capsys.readouterr()
    assert fh(home, "add", str(folder), "--host", "katfile") == 2
    assert "already queued for katfile as upload 1" in one_line_error(capsys)


def test_file_over_the_hosts_limit_is_queued_as_volumes(home, tmp_path, capsys):
    big = tmp_path / "big.iso"
    with open(big, "wb") as fh_:
        fh_.truncate(300 * 1024 * 1024)
    assert fh(home, "add", str(big), "--host", "catbox") == 0
    capsys.readouterr()
    assert fh(home, "status", "--json") == 0
    rows = json.loads(capsys.readouterr().out)["uploads"]
    mib = 1024 * 1024
    assert [(r["volume"], r["volumes"], r["total_bytes"]) for r in rows] == [
        (1, 2, 200 * mib),
        (2, 2, 100 * mib),
    ]


def test_malformed_config_names_file_line_and_key(home, folder, capsys):
    home.mkdir()
    (home / "config.toml").write_text("[limits]\nmax_concurrent = 4\nmax_concurent = 2\n")
    assert fh(home, "add", str(folder), "--host", "katfile") == 2
    err = one_line_error(capsys)
    assert f"{home / 'config.toml'}:3: unknown key limits.max_concurent" in err
    (home / "config.toml").write_text("[hosts.katfile\nenabled = true\n")
    assert fh(home, "status") == 2
    assert "invalid TOML" in one_line_error(capsys)
    (home / "config.toml").write_text("[hosts.katfile]\nmax_retries = 'five'\n")
    assert fh(home, "status") == 2
    assert f"{home / 'config.toml'}:2: hosts.katfile.max_retries must be a int" in one_line_error(
        capsys
    )


def test_newer_schema_is_refused_and_left_alone(home, folder, capsys):
    fh(home, "add", str(folder), "--host", "katfile")
    db = home / "filehost-tui.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    conn.close()
    capsys.readouterr()
    before = db.read_bytes()
    assert fh(home, "status") == 2
    assert "written by a newer filehost-tui (schema 99" in one_line_error(capsys)
    assert db.read_bytes() == before


def test_corrupt_database_is_a_clear_error(home, capsys):
    home.mkdir()
    db = home / "filehost-tui.db"
    db.write_bytes(b"this is not sqlite at all" * 100)
    before = db.read_bytes()
    assert fh(home, "status") == 2
    assert "is corrupt or not a SQLite file" in one_line_error(capsys)
    assert db.read_bytes() == before


@pytest.fixture
def open_dir():
    """A folder the unprivileged user can reach (pytest's own tmp dirs are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="filehost-tui-test-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_read_only_database_is_a_clear_error(open_dir, capsys):
    home, folder = open_dir / "home", open_dir / "somefolder"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"a" * 100)
    fh(home, "add", str(folder), "--host", "katfile")
    capsys.readouterr()
    code, err = run_as_nobody(home, ["add", str(folder), "--host", "rapidgator"], chmod_home=0o755)
    assert code == 2
    assert err.count("\n") == 1
    assert "read-only" in err or "cannot open database" in err


def test_unreadable_file_is_refused(open_dir):
    tmp_path = open_dir
    home = tmp_path / "home"
    home.mkdir(mode=0o777)
    os.chmod(home, 0o777)
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"x" * 10)
    os.chmod(secret, 0o600)
    code, err = run_as_nobody(home, ["add", str(secret), "--host", "katfile"])
    assert code == 2
    assert err.count("\n") == 1
    assert "permission denied; make it readable" in err


@pytest.mark.parametrize("unreadable", ["file", "subfolder"])
def test_a_folder_with_something_unreadable_is_refused_at_add(open_dir, unreadable):
    """Told at `add`, not hours later when the archive is built (and never as a traceback)."""
    home = open_dir / "home"
    home.mkdir(mode=0o777)
    os.chmod(home, 0o777)
    folder = open_dir / "album"
    (folder / "private").mkdir(parents=True)
    (folder / "a.jpg").write_bytes(b"a" * 100)
    (folder / "private" / "b.jpg").write_bytes(b"b" * 100)
    locked = folder / "private" / "b.jpg" if unreadable == "file" else folder / "private"
    os.chmod(locked, 0o600 if unreadable == "file" else 0o700)
    code, err = run_as_nobody(home, ["add", str(folder), "--host", "katfile"])
    assert code == 2
    assert err.count("\n") == 1
    assert "private" in err and "permission denied" in err and "fix its permissions" in err


def test_a_home_that_cannot_be_written_is_a_one_line_error(open_dir):
    home = open_dir / "home"
    home.mkdir(mode=0o555)
    os.chmod(home, 0o555)
    code, err = run_as_nobody(home, ["status"])
    assert code == 2
    assert err.count("\n") == 1
    assert "Permission denied; check its permissions or use --home DIR" in err


def test_without_a_terminal_the_tui_refuses_and_names_run(home, capsys):
    assert fh(home) == 2  # pytest's stdin is not a terminal, like cron or `ssh host cmd`
    assert "no terminal to show the TUI on" in one_line_error(capsys)


def test_an_out_of_range_upload_id_is_a_usage_error(home, capsys):
    with pytest.raises(SystemExit) as exited:
        fh(home, "retry", "99999999999999999999999")
    assert exited.value.code == 2
    assert "is not an upload id" in one_line_error(capsys)


def test_an_empty_home_is_refused_instead_of_using_the_current_folder(capsys):
    assert main(["--home", "", "status"]) == 2
    assert "--home is empty; give a folder" in one_line_error(capsys)


def test_control_characters_in_a_file_name_are_shown_escaped_on_one_line(home, tmp_path, capsys):
    """A name with a newline and an escape sequence must not forge a line or drive the terminal."""
    odd = tmp_path / "a\nforged line \x1b[31mred.bin"
    odd.write_bytes(b"x" * 10)
    assert fh(home, "add", str(odd), "--host", "katfile") == 0
    assert fh(home, "status") == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert out.count("\n") == 2  # the `add` line and the `status` line
    assert "a\\x0aforged line \\x1b[31mred.bin" in out


def test_selectors_that_match_nothing_say_so(home, capsys):
    assert fh(home, "pause", "--host", "nosuch") == 2
    assert "unknown host 'nosuch'; known hosts: " in one_line_error(capsys)
    assert fh(home, "retry", "--failed") == 0
    assert capsys.readouterr().out == "no upload matches; nothing to retry\n"


def run_as_nobody(home: Path, argv: list[str], chmod_home: int | None = None) -> tuple[int, str]:
    """Root reads everything, so unreadable inputs are tested in a forked child that became the
    unprivileged `nobody` (exec'ing python as nobody fails: the interpreter lives under /root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged user")
    if chmod_home is not None:
        os.chmod(home, chmod_home)
        for p in home.iterdir():
            os.chmod(p, 0o644 if p.is_file() else 0o755)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 99
        try:
            os.close(read_end)
            sys.stderr = os.fdopen(write_end, "w")
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the child exits right after
            os.setgid(65534)
            os.setuid(65534)
            code = main(["--home", str(home), *argv])
        finally:
            sys.stderr.flush()
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as fh_:
        err = fh_.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), err


def test_database_locked_by_another_process_is_a_clear_error(home, folder, tmp_path, capsys):
    fh(home, "add", str(folder), "--host", "katfile")
    capsys.readouterr()
    other = tmp_path / "other.bin"
    other.write_bytes(b"o" * 10)
    holder = sqlite3.connect(home / "filehost-tui.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # what a stuck writer elsewhere looks like
    try:
        assert fh(home, "add", str(other), "--host", "katfile") == 2  # after the busy timeout
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "stayed locked by another process; try again" in one_line_error(capsys)
    assert fh(home, "status", "--json") == 0
    assert len(json.loads(capsys.readouterr().out)["uploads"]) == 1


def test_home_is_accepted_after_the_subcommand_too(tmp_path, folder):
    home, other = tmp_path / "home", tmp_path / "other"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "filehost_tui", *args],
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )

    added = run("add", str(folder), "--host", "catbox", "--home", str(home))
    assert added.returncode == 0, added.stderr
    listed = run("--home", str(other), "status", "--json", "--home", str(home))
    assert listed.returncode == 0, listed.stderr
    assert [u["host"] for u in json.loads(listed.stdout)["uploads"]] == ["catbox"]
    assert (home / "filehost-tui.db").exists() and not other.exists()
