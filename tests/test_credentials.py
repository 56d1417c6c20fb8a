"""Credentials: environment > keyring > credentials.toml; private file; values never shown."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyrings.alt.file import PlaintextKeyring

from filehost_tui.credentials import (
    credential_state,
    delete_credentials,
    lookup_credentials,
    store_credentials,
)
from filehost_tui.errors import UserError
from filehost_tui.keyring_store import SERVICE
from filehost_tui.paths import AppPaths
from filehost_tui.redact import SECRETS
from filehost_tui.secret import Secret

FIELDS = ("username", "password")
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.resolve(tmp_path / "home")


@pytest.fixture
def file_keyring(tmp_path: Path) -> PlaintextKeyring:
    """keyrings.alt's file-backed keyring, its file inside tmp_path (file_path is overridable)."""
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring" / "keyring_pass.cfg")
    keyring.set_keyring(backend)
    return backend


class BrokenAfterFirstWrite(KeyringBackend):
    """A keyring whose second write fails, like a collection that locks part-way."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.entries:
            raise RuntimeError(f"locked while storing {password}")
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.entries[(service, username)]


def write_file(paths: AppPaths, text: str, mode: int = 0o600) -> Path:
    path = paths.credentials_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def revealed(found: dict[str, Secret]) -> dict[str, str]:
    return {name: secret.reveal() for name, secret in found.items()}


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- lookup order -----------------------------------------------------------------------------


def test_environment_wins_over_keyring_and_file(
    paths: AppPaths, file_keyring: PlaintextKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILEHOST_TUI_RAPIDGATOR_PASSWORD", "from-env")
    file_keyring.set_password(SERVICE, "rapidgator:password", "from-keyring")
    write_file(paths, '[rapidgator]\npassword = "from-file"\n')
    assert revealed(lookup_credentials("rapidgator", ["password"], paths)) == {
        "password": "from-env"
    }


def test_keyring_wins_over_file(paths: AppPaths, file_keyring: PlaintextKeyring) -> None:
    file_keyring.set_password(SERVICE, "rapidgator:password", "from-keyring")
    write_file(paths, '[rapidgator]\npassword = "from-file"\n')
    assert revealed(lookup_credentials("rapidgator", ["password"], paths)) == {
        "password": "from-keyring"
    }


def test_file_is_used_when_neither_env_nor_keyring_has_the_field(
    paths: AppPaths, file_keyring: PlaintextKeyring
) -> None:
    write_file(paths, '[rapidgator]\nusername = "alice"\npassword = "from-file"\n')
    assert revealed(lookup_credentials("rapidgator", FIELDS, paths)) == {
        "username": "alice",
        "password": "from-file",
    }


def test_each_field_comes_from_its_own_best_source(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILEHOST_TUI_KEEP2SHARE_API_KEY", "env-key")
    write_file(paths, '[keep2share]\napi_key = "file-key"\nusername = "bob"\n')
    found = lookup_credentials("keep2share", ["api_key", "username", "password"], paths)
    assert revealed(found) == {"api_key": "env-key", "username": "bob"}


def test_found_values_are_secrets_and_passwords_are_registered_for_redaction(
    paths: AppPaths,
) -> None:
    write_file(paths, '[host1]\nusername = "plain-user-1"\npassword = "registered-pass-1"\n')
    found = lookup_credentials("host1", FIELDS, paths)
    assert repr(found) == "{'username': Secret('***'), 'password': Secret('***')}"
    assert "registered-pass-1" in SECRETS
    assert "plain-user-1" not in SECRETS


def test_null_keyring_is_not_used_for_storing(paths: AppPaths) -> None:
    where = store_credentials("host1", {"password": "pw-12345"}, paths)
    assert where == str(paths.credentials_file)


# --- file permissions and errors --------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o660, 0o644])
def test_file_readable_or_writable_by_others_is_refused_with_chmod_hint(
    paths: AppPaths, mode: int
) -> None:
    path = write_file(paths, '[host1]\npassword = "leaky-secret"\n', mode)
    with pytest.raises(UserError) as caught:
        lookup_credentials("host1", ["password"], paths)
    message = str(caught.value)
    assert f"chmod 600 {path}" in message
    assert "\n" not in message
    assert "leaky-secret" not in message


@posix_only
def test_loose_file_is_not_read_when_the_environment_has_every_field(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_file(paths, '[host1]\npassword = "x"\n', 0o644)
    monkeypatch.setenv("FILEHOST_TUI_HOST1_PASSWORD", "env-only")
    assert revealed(lookup_credentials("host1", ["password"], paths)) == {"password": "env-only"}


def test_invalid_toml_error_names_the_line_but_not_the_value(paths: AppPaths) -> None:
    write_file(paths, '[host1]\npassword = "super-secret-value"\nthis is broken "super-secret"\n')
    with pytest.raises(UserError) as caught:
        lookup_credentials("host1", ["password"], paths)
    assert "line 3" in str(caught.value)
    assert "super-secret" not in str(caught.value)


def test_non_string_value_error_names_the_field_but_not_the_value(paths: AppPaths) -> None:
    write_file(paths, "[host1]\npassword = 98765432\n")
    with pytest.raises(UserError) as caught:
        lookup_credentials("host1", ["password"], paths)
    assert "host1.password" in str(caught.value)
    assert "98765432" not in str(caught.value)


# --- store and delete -------------------------------------------------------------------------


@posix_only
def test_store_creates_0600_file_in_0700_dir_even_with_umask_zero(paths: AppPaths) -> None:
    old = os.umask(0)
    try:
        where = store_credentials("host1", {"username": "alice", "password": "pw-1"}, paths)
    finally:
        os.umask(old)
    path = paths.credentials_file
    assert where == str(path)
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["credentials.toml"]


def test_store_and_delete_round_trip_preserves_other_hosts(paths: AppPaths) -> None:
    store_credentials("other", {"api_key": "other-key"}, paths, prefer_keyring=False)
    store_credentials("host1", {"username": "alice", "password": "pw-1"}, paths)
    assert revealed(lookup_credentials("host1", FIELDS, paths)) == {
        "username": "alice",
        "password": "pw-1",
    }
    assert delete_credentials("host1", FIELDS, paths) is True
    assert lookup_credentials("host1", FIELDS, paths) == {}
    assert revealed(lookup_credentials("other", ["api_key"], paths)) == {"api_key": "other-key"}
    assert delete_credentials("host1", FIELDS, paths) is False


def test_deleting_the_last_host_removes_the_file(paths: AppPaths) -> None:
    store_credentials("host1", {"password": "pw-1234"}, paths)
    assert delete_credentials("host1", ["password"], paths) is True
    assert not paths.credentials_file.exists()


def test_storing_again_updates_fields_and_keeps_the_others(paths: AppPaths) -> None:
    store_credentials("host1", {"username": "alice", "password": "old-pw"}, paths)
    store_credentials("host1", {"password": "new-pw"}, paths)
    assert revealed(lookup_credentials("host1", FIELDS, paths)) == {
        "username": "alice",
        "password": "new-pw",
    }


def test_awkward_ids_and_values_survive_the_file_round_trip(paths: AppPaths) -> None:
    value = 'quo"te \\ back\nline\ttab \x7f ünï 🔑'
    store_credentials("my.host:1", {"pass word": value}, paths)
    parsed = tomllib.loads(paths.credentials_file.read_text(encoding="utf-8"))
    assert parsed == {"my.host:1": {"pass word": value}}
    assert revealed(lookup_credentials("my.host:1", ["pass word"], paths)) == {"pass word": value}


def test_store_prefers_a_usable_keyring_and_removes_stale_file_copies(
    paths: AppPaths, file_keyring: PlaintextKeyring
) -> None:
    write_file(paths, '[host1]\npassword = "stale"\n[other]\napi_key = "keep"\n')
    assert store_credentials("host1", {"password": "kr-pass"}, paths) == "keyring"
    assert file_keyring.get_password(SERVICE, "host1:password") == "kr-pass"
    assert "host1_3apassword" in Path(file_keyring.file_path).read_text(encoding="utf-8")
    stored = tomllib.loads(paths.credentials_file.read_text(encoding="utf-8"))
    assert stored == {"other": {"api_key": "keep"}}
    assert revealed(lookup_credentials("host1", ["password"], paths)) == {"password": "kr-pass"}


def test_delete_removes_from_keyring_and_file(
    paths: AppPaths, file_keyring: PlaintextKeyring
) -> None:
    store_credentials("host1", {"username": "alice"}, paths, prefer_keyring=False)
    store_credentials("host1", {"password": "kr-pass"}, paths)
    assert delete_credentials("host1", FIELDS, paths) is True
    assert file_keyring.get_password(SERVICE, "host1:password") is None
    assert lookup_credentials("host1", FIELDS, paths) == {}


def test_keyring_failure_part_way_falls_back_to_the_file_without_leftovers(
    paths: AppPaths, caplog: pytest.LogCaptureFixture
) -> None:
    broken = BrokenAfterFirstWrite()
    keyring.set_keyring(broken)
    where = store_credentials("host1", {"username": "alice", "password": "pw-9876"}, paths)
    assert where == str(paths.credentials_file)
    assert broken.entries == {}
    assert "keyring write failed (RuntimeError)" in caplog.text
    assert "pw-9876" not in caplog.text
    assert revealed(lookup_credentials("host1", FIELDS, paths)) == {
        "username": "alice",
        "password": "pw-9876",
    }


class UnreadableKeyring(BrokenAfterFirstWrite):
    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("no D-Bus session")


def test_keyring_read_failure_falls_back_to_the_file(paths: AppPaths) -> None:
    keyring.set_keyring(UnreadableKeyring())
    write_file(paths, '[host1]\npassword = "from-file"\n')
    assert revealed(lookup_credentials("host1", ["password"], paths)) == {"password": "from-file"}


def test_storing_nothing_is_a_user_error(paths: AppPaths) -> None:
    with pytest.raises(UserError, match="nothing stored"):
        store_credentials("host1", {"password": ""}, paths)


# --- state for `hosts` ------------------------------------------------------------------------


def test_credential_state_names_the_sources_never_the_values(
    paths: AppPaths, file_keyring: PlaintextKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert credential_state("anon", [], [], paths) == "none"
    assert credential_state("host1", FIELDS, FIELDS, paths) == "missing"
    store_credentials("host1", {"username": "alice"}, paths, prefer_keyring=False)
    assert credential_state("host1", FIELDS, FIELDS, paths) == "missing"
    assert credential_state("host1", FIELDS, [], paths) == "file"
    store_credentials("host1", {"password": "kr-pass"}, paths)
    assert credential_state("host1", FIELDS, FIELDS, paths) == "keyring+file"
    monkeypatch.setenv("FILEHOST_TUI_HOST1_USERNAME", "env-user")
    assert credential_state("host1", FIELDS, FIELDS, paths) == "env+keyring"
    monkeypatch.setenv("FILEHOST_TUI_HOST1_PASSWORD", "env-pass")
    assert credential_state("host1", FIELDS, FIELDS, paths) == "env"
