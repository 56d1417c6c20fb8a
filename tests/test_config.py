"""config.toml loading: defaults, overrides, and errors that name file, line and key."""

from __future__ import annotations

import pytest

from filehost_tui.config import HostSettings, env_key, load_config
from filehost_tui.errors import UserError


def test_missing_file_means_defaults(tmp_path):
    config = load_config(tmp_path / "config.toml")
    assert config.host("katfile") == HostSettings()
    assert config.limits.max_concurrent == 4


def test_host_settings_and_environment_base_url_override(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text('[hosts.katfile]\nbase_url = "https://mirror.example"\nmax_connections = 3\n')
    config = load_config(path)
    assert config.host("katfile").base_url == "https://mirror.example"
    assert config.host("katfile").max_connections == 3
    monkeypatch.setenv("FILEHOST_TUI_KATFILE_BASE_URL", "http://127.0.0.1:9")
    assert config.host("katfile").base_url == "http://127.0.0.1:9"


def test_env_key_upper_cases_and_replaces_other_characters():
    assert env_key("keep2share", "API_KEY") == "FILEHOST_TUI_KEEP2SHARE_API_KEY"
    assert env_key("0x0", "BASE_URL") == "FILEHOST_TUI_0X0_BASE_URL"
    assert env_key("my-host.io", "PASSWORD") == "FILEHOST_TUI_MY_HOST_IO_PASSWORD"


def test_ca_bundle_is_relative_to_the_config_folder_and_must_exist(tmp_path):
    path = tmp_path / "config.toml"
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    path.write_text('ca_bundle = "ca.pem"\n')
    assert load_config(path).ca_bundle == str((tmp_path / "ca.pem").resolve())
    path.write_text('\nca_bundle = "missing.pem"\n')
    with pytest.raises(UserError, match=r"config.toml:2: ca_bundle .*missing.pem is not a file"):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[limits]\nmax_concurent = 1\n", r":2: unknown key limits.max_concurent"),
        ("[hosts.x]\nenabled = 'yes'\n", r":2: hosts.x.enabled must be a bool"),
        ("[hosts.x]\nmax_retries = true\n", r":2: hosts.x.max_retries must be a int"),
        ("colour = 1\n", r":1: unknown key colour"),
        ("[links]\nbbcode = 3\n", r"\[links\] must map a format name to a template string"),
        ("[hosts\n", r"invalid TOML"),
        ("[limits]\nmax_upload_speed = -100\n", r":2: limits.max_upload_speed must be 0 or more"),
        ("[hosts.x]\nretry_delay = -1.0\n", r":2: hosts.x.retry_delay must be 0 or more"),
        ("[hosts.x]\nmax_connections = 0\n", r":2: hosts.x.max_connections must be 1 or more"),
    ],
)
def test_malformed_config_is_one_line_naming_the_problem(tmp_path, text, message):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=message) as info:
        load_config(path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)
