"""`filehost-tui login HOST` / `logout HOST` against the fake hosts: verify first, store only what
works (keyring, else a 0600 credentials.toml), environment variables win."""

from __future__ import annotations

import io
import os
import select
import stat
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from filehost_tui.demo.fake_server import FakeHost
from tests.cli_support import base_url_env, clean_env, cli, run_main, write_config

RG = {"username": "alice@example.invalid", "password": "pw-Login-Secret-1"}
KATFILE_KEY = "katfile-Login-Key-2"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def rapidgator(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHost]:
    with FakeHost("rapidgator", credentials=RG) as fake:
        monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_BASE_URL", fake.base_url)
        yield fake


@pytest.fixture
def katfile(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHost]:
    with FakeHost("xfs_api", credentials={"api_key": KATFILE_KEY}) as fake:
        monkeypatch.setenv("FILEHOST_TUI_KATFILE_BASE_URL", fake.base_url)
        yield fake


def login(capsys, monkeypatch, home: Path, host: str, typed: str, *extra: str):
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
    return run_main(capsys, home, "login", host, *extra)


def stored(home: Path) -> dict:
    return tomllib.loads((home / "credentials.toml").read_text())


def test_login_verifies_and_stores_a_private_file(capsys, monkeypatch, home, rapidgator):
    code, out, err = login(capsys, monkeypatch, home, "rapidgator", "\n".join(RG.values()) + "\n")

    path = home / "credentials.toml"
    assert code == 0
    assert "credentials verified, premium" in out and f"stored in {path}" in out
    assert stored(home) == {"rapidgator": RG}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert rapidgator.login_count == 1
    assert "username: " in err and "password: " in err  # prompts on stderr, stdout stays clean
    assert RG["password"] not in out + err


def test_login_asks_exactly_the_fields_of_the_spec(capsys, monkeypatch, home, katfile):
    code, _out, err = login(capsys, monkeypatch, home, "katfile", f"{KATFILE_KEY}\nextra line\n")

    assert code == 0
    assert err.count(": ") == 1 and "api key: " in err
    assert stored(home) == {"katfile": {"api_key": KATFILE_KEY}}


def test_wrong_password_is_one_line_error_and_nothing_stored(capsys, monkeypatch, home, rapidgator):
    typed = f"{RG['username']}\nWrong-Password-77\n"

    code, out, err = login(capsys, monkeypatch, home, "rapidgator", typed)

    error_lines = [line for line in err.splitlines() if line.startswith("filehost-tui:")]
    assert code == 2 and out == ""
    assert len(error_lines) == 1 and "rejected these credentials" in error_lines[0]
    assert "nothing stored" in error_lines[0]
    assert "Wrong-Password-77" not in err
    assert not (home / "credentials.toml").exists()


def test_wrong_login_keeps_the_credentials_that_worked(capsys, monkeypatch, home, rapidgator):
    login(capsys, monkeypatch, home, "rapidgator", "\n".join(RG.values()) + "\n")

    code, _out, _err = login(capsys, monkeypatch, home, "rapidgator", "bob\nnope-nope-nope\n")

    assert code == 2
    assert stored(home) == {"rapidgator": RG}


def test_missing_input_for_a_required_field_is_bad_input(capsys, monkeypatch, home, rapidgator):
    code, _out, err = login(capsys, monkeypatch, home, "rapidgator", f"{RG['username']}\n")
    empty_code, _o, empty_err = login(capsys, monkeypatch, home, "rapidgator", "me\n\n")

    assert code == 2 and "no input for password" in err
    assert empty_code == 2 and "password is required" in empty_err
    assert rapidgator.login_count == 0
    assert not (home / "credentials.toml").exists()


def test_login_with_empty_stdin_is_one_stderr_line(home):
    result = cli(home, "login", "rapidgator", stdin="")

    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "no input for username" in result.stderr
    assert not (home / "credentials.toml").exists()


def test_unreachable_host_exits_1_and_no_verify_stores_anyway(capsys, monkeypatch, home):
    with FakeHost("xfs_api") as fake:
        url = fake.base_url  # closed once the fake stops
    monkeypatch.setenv("FILEHOST_TUI_KATFILE_BASE_URL", url)

    code, out, err = login(capsys, monkeypatch, home, "katfile", f"{KATFILE_KEY}\n")
    forced, forced_out, _ = login(
        capsys, monkeypatch, home, "katfile", f"{KATFILE_KEY}\n", "--no-verify"
    )

    assert code == 1 and out == ""
    assert "could not verify" in err and "network" in err and "--no-verify" in err
    assert forced == 0 and "not verified (--no-verify)" in forced_out
    assert stored(home) == {"katfile": {"api_key": KATFILE_KEY}}


def test_optional_only_host_stores_the_optional_field(capsys, monkeypatch, home):
    with FakeHost("catbox", credentials={"userhash": "userhash-Login-3"}) as fake:
        monkeypatch.setenv("FILEHOST_TUI_CATBOX_BASE_URL", fake.base_url)
        code, out, err = login(capsys, monkeypatch, home, "catbox", "userhash-Login-3\n")
        skipped, _o, skipped_err = login(capsys, monkeypatch, home, "catbox", "\n")

    assert code == 0 and "(optional, Enter to skip)" in err
    assert "not verified (this host has no account check)" in out
    assert stored(home) == {"catbox": {"userhash": "userhash-Login-3"}}
    assert skipped == 2 and "no credentials given" in skipped_err


def test_login_to_unknown_or_credential_free_host_is_bad_usage(capsys, monkeypatch, home):
    unknown, _o, unknown_err = login(capsys, monkeypatch, home, "nosuch", "x\n")
    free, _o2, free_err = login(capsys, monkeypatch, home, "0x0", "x\n")

    assert unknown == 2 and "unknown host 'nosuch'" in unknown_err
    assert free == 2 and "takes no credentials" in free_err


def test_logout_removes_stored_credentials(capsys, monkeypatch, home, rapidgator):
    login(capsys, monkeypatch, home, "rapidgator", "\n".join(RG.values()) + "\n")

    code, out, _err = run_main(capsys, home, "logout", "rapidgator")
    again, again_out, _ = run_main(capsys, home, "logout", "rapidgator")
    _c, state, _e = run_main(capsys, home, "hosts", "rapidgator")

    assert code == 0 and "credentials removed" in out
    assert not (home / "credentials.toml").exists()
    assert again == 0 and "no stored credentials" in again_out
    assert " missing " in state.splitlines()[1]


def test_logout_keeps_other_hosts_and_unknown_host_is_bad_input(
    capsys, monkeypatch, home, rapidgator, katfile
):
    login(capsys, monkeypatch, home, "rapidgator", "\n".join(RG.values()) + "\n")
    login(capsys, monkeypatch, home, "katfile", f"{KATFILE_KEY}\n")

    code, _out, _err = run_main(capsys, home, "logout", "katfile")
    unknown, _o, unknown_err = run_main(capsys, home, "logout", "nosuch")

    assert code == 0 and stored(home) == {"rapidgator": RG}
    assert unknown == 2 and "unknown host 'nosuch'" in unknown_err


def test_environment_wins_over_stored_credentials(capsys, monkeypatch, home, rapidgator):
    login(capsys, monkeypatch, home, "rapidgator", f"{RG['username']}\nstale-pass\n", "--no-verify")
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_PASSWORD", RG["password"])

    code, out, _err = run_main(capsys, home, "hosts", "rapidgator", "--check")
    note_code, _o, note = login(
        capsys, monkeypatch, home, "rapidgator", f"{RG['username']}\n{RG['password']}\n"
    )

    assert code == 0 and "env+file" in out and "credentials ok" in out
    assert note_code == 0 and "FILEHOST_TUI_RAPIDGATOR_PASSWORD" in note and "wins" in note


def test_login_over_tls_needs_the_ca_bundle(capsys, monkeypatch, home, tmp_path):
    from tests.cli_support import make_self_signed, serve_tls

    cert, key = make_self_signed(tmp_path)
    with FakeHost("rapidgator", credentials=RG) as fake:
        serve_tls(fake, cert, key)
        monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_BASE_URL", fake.base_url)
        typed = "\n".join(RG.values()) + "\n"
        code, _out, err = login(capsys, monkeypatch, home, "rapidgator", typed)
        write_config(home, f'ca_bundle = "{cert}"\n')
        trusted, trusted_out, _ = login(capsys, monkeypatch, home, "rapidgator", typed)

    assert code == 1 and "tls:" in err and "ca_bundle" in err and "nothing stored" in err
    assert trusted == 0 and "credentials verified" in trusted_out
    assert stored(home) == {"rapidgator": RG}


# ---- subprocess: the OS keyring path and a real terminal ----------------------------------------


def test_login_uses_the_os_keyring_when_one_is_usable(tmp_path, home):
    """keyrings.alt's file-backed keyring stands in for the OS keyring, in a fresh process."""
    keyring_env = {
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
    }
    with FakeHost("rapidgator", credentials=RG) as fake:
        env = {**keyring_env, **base_url_env("rapidgator", fake)}
        result = cli(home, "login", "rapidgator", env=env, stdin="\n".join(RG.values()) + "\n")
        keyring_files = list((tmp_path / "xdg-data").rglob("*.cfg"))
        keyring_text = "".join(p.read_text() for p in keyring_files)
        listed = cli(home, "hosts", "rapidgator", env=env)
        checked = cli(home, "hosts", "rapidgator", "--check", "--json", env=env)
        logout = cli(home, "logout", "rapidgator", env=env)
        after = cli(home, "hosts", "rapidgator", env=env)

    assert result.returncode == 0, result.stderr
    assert "stored in the OS keyring" in result.stdout
    assert not (home / "credentials.toml").exists()
    assert "rapidgator_3apassword" in keyring_text.lower()  # keyrings.alt escapes ":"
    assert " keyring " in listed.stdout.splitlines()[1]
    assert checked.returncode == 0 and '"status": "ok"' in checked.stdout
    assert logout.returncode == 0 and "credentials removed" in logout.stdout
    assert " missing " in after.stdout.splitlines()[1]


def test_a_plaintext_keyring_chosen_for_want_of_a_real_one_is_not_used(tmp_path, home):
    """With keyrings.alt installed and no OS keyring, keyring falls back to a plaintext file
    outside --home; credentials.toml (0600, inside --home) is the honest place then."""
    with FakeHost("rapidgator", credentials=RG) as fake:
        env = clean_env({"XDG_DATA_HOME": str(tmp_path / "xdg-data")})
        env.update(base_url_env("rapidgator", fake))
        del env["PYTHON_KEYRING_BACKEND"]  # let keyring pick: here, keyrings.alt's plaintext file
        result = subprocess.run(
            [sys.executable, "-m", "filehost_tui", "--home", str(home), "login", "rapidgator"],
            env=env,
            input="\n".join(RG.values()) + "\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    assert "OS keyring" not in result.stdout
    assert stored(home) == {"rapidgator": RG}
    assert not list((tmp_path / "xdg-data").rglob("*.cfg"))


def _read_until(fd: int, needle: bytes, seen: bytearray, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {needle!r}; got {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            assert chunk, f"terminal closed before {needle!r}; got {bytes(seen)!r}"
            seen.extend(chunk)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_password_typed_at_a_terminal_is_not_echoed(home):
    import pty

    with FakeHost("rapidgator", credentials=RG) as fake:
        master, slave = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "filehost_tui", "--home", str(home), "login", "rapidgator"],
            stdin=slave, stdout=slave, stderr=slave, env=clean_env(base_url_env("rapidgator", fake)),
            start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        seen = bytearray()
        try:
            _read_until(master, b"username: ", seen)
            os.write(master, RG["username"].encode() + b"\n")
            _read_until(master, b"password: ", seen)
            os.write(master, RG["password"].encode() + b"\n")
            _read_until(master, b"stored in", seen)
            assert proc.wait(timeout=60) == 0
        finally:
            proc.kill()
            proc.wait()
            os.close(master)

    text = seen.decode(errors="replace")
    assert RG["username"] in text  # the user name is echoed like any login prompt's
    assert RG["password"] not in text
    assert stored(home) == {"rapidgator": RG}
