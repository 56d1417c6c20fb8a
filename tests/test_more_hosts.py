"""Filedot, FileJoker, Filespace (XFS web sessions), DDownload, Send.cm (XFS API keys) and Nitroflare:
real uploads through the spec interpreter against their fakes — a stale session is re-logged once
per upload and then fails as auth, an account limit is too_large with the host's figure, a garbled
reply is bad_response, and `hosts --check` shows what each account API reports.

None of these APIs has an MD5 dedup or "already uploaded" answer, so there is no such path to test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.errors import ErrorKind
from tests.cli_support import run_main
from tests.host_harness import CREDENTIALS, FAKE_OPTIONS, host_factory, request_steps, sample_file

SESSION_HOSTS = ("filedot", "filejoker", "filespace")
API_KEY_HOSTS = ("ddownload", "sendcm", "nitroflare")
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_file(tmp_path_factory)


@pytest.fixture
def host() -> Iterator[Any]:
    with host_factory() as make:
        yield make


@pytest.mark.parametrize("page", ["login_form", "expired"])
@pytest.mark.parametrize("host_id", SESSION_HOSTS)
def test_stale_session_triggers_one_relogin_then_success(
    host: Any, sample: Path, host_id: str, page: str
) -> None:
    h = host(host_id)
    assert h.upload(sample).url
    h.fake.inject("expired_token", page=page)  # the upload form page: login form or notice
    assert h.upload(sample).url.startswith(h.fake.base_url + "/")
    assert h.fake.login_count == 2 and len(h.fake.received) == 2


@pytest.mark.parametrize("host_id", SESSION_HOSTS)
def test_a_session_stale_twice_in_one_upload_fails_as_auth(
    host: Any, sample: Path, host_id: str
) -> None:
    h = host(host_id)
    h.fake.inject("expired_token", times=2)
    error = h.failure(sample)
    assert error.kind is ErrorKind.AUTH and "rejected a fresh login's session too" in str(error)
    assert h.fake.login_count == 2 and h.fake.received == []


def test_filedot_session_ending_during_the_upload_is_renewed_and_the_file_resent(
    host: Any, sample: Path
) -> None:
    h = host("filedot")
    h.fake.inject("expired_token", step="upload")
    result = h.upload(sample)
    assert result.url.startswith(h.fake.base_url + "/")
    steps = request_steps(h.fake)
    assert steps == ["login_page", "login", "server", "upload", "login_page", "login", "upload"]
    [received] = h.fake.received
    assert received.fields["sess_id"] not in (None, "")


def test_filedot_login_answers_the_drawn_captcha_with_the_form_rand(
    host: Any, sample: Path
) -> None:
    h = host("filedot")
    h.upload(sample)
    h.client = h.make_client()  # a new client logs in again, with a new captcha
    h.upload(sample)
    assert h.fake.login_count == 2
    assert request_steps(h.fake).count("login_page") == 2


def test_filedot_wrong_password_is_auth_not_a_captcha_problem(host: Any, sample: Path) -> None:
    h = host("filedot")
    client = h.make_client(dict(h.creds, password="wrong-Secret-pass"))
    with pytest.raises(Exception) as caught:
        client.upload(sample, name="x.bin", progress=lambda d, t: False)
    assert caught.value.kind is ErrorKind.AUTH and "wrong login or password" in str(caught.value)
    assert "wrong-Secret-pass" not in str(caught.value)


@pytest.mark.parametrize("host_id", API_KEY_HOSTS)
def test_a_refused_api_key_fails_as_auth_at_once(host: Any, sample: Path, host_id: str) -> None:
    """An API key cannot be renewed: no loop, no second try, nothing sent twice."""
    h = host(host_id)
    h.fake.inject("expired_token")
    error = h.failure(sample)
    assert error.kind is ErrorKind.AUTH
    assert len(h.fake.requests) <= 2 and h.fake.received == []


LIMITS = {
    "filedot": "max 1 Mb",
    "filejoker": "max 1 Mb",
    "filespace": "max 1 Mb",
    "ddownload": "max 1 Mb",
    "sendcm": "max 1 Mb",
    "nitroflare": "max 1 MB",
}


@pytest.mark.parametrize("host_id", sorted(LIMITS))
def test_file_over_the_account_limit_is_too_large_with_the_hosts_figure(
    host: Any, sample: Path, host_id: str
) -> None:
    h = host(host_id, {"max_file_size": MIB})
    error = h.failure(sample)
    assert error.kind is ErrorKind.TOO_LARGE
    assert f"file too big for this account ({LIMITS[host_id]})" in error.message
    assert h.fake.received == []


@pytest.mark.parametrize("host_id", sorted(LIMITS))
def test_garbled_reply_is_bad_response(host: Any, sample: Path, host_id: str) -> None:
    h = host(host_id)
    h.fake.inject("garbage")
    assert h.failure(sample).kind is ErrorKind.BAD_RESPONSE


@pytest.mark.parametrize("host_id", sorted(LIMITS))
def test_reply_without_a_file_code_is_bad_response(host: Any, sample: Path, host_id: str) -> None:
    h = host(host_id)
    h.fake.inject("no_link")
    assert h.failure(sample).kind is ErrorKind.BAD_RESPONSE


# ----- hosts --check through the command line --------------------------------------------------

CHECKS = {
    # host id: (fake options, what --check prints after "credentials ok")
    "filedot": ({}, "premium"),
    "filejoker": ({}, "premium"),
    "filespace": ({}, "premium"),
    "ddownload": ({"storage_left": 3 * 2**30}, "premium, 3.0GiB storage left"),
    "sendcm": ({"premium": False, "storage_left": 5 * MIB}, "5.0MiB storage left"),
    "nitroflare": ({}, "premium, 2.0TiB storage left"),
}
FAMILY = {
    "filedot": "xfs_session",
    "filejoker": "xfs_session",
    "filespace": "xfs_session",
    "ddownload": "xfs_api",
    "sendcm": "xfs_api",
    "nitroflare": "nitroflare",
}


def _check_env(monkeypatch: pytest.MonkeyPatch, host_id: str, fake: FakeHost, creds: dict) -> None:
    prefix = f"FILEHOST_TUI_{host_id.upper()}_"
    monkeypatch.setenv(prefix + "BASE_URL", fake.base_url)
    for field, value in creds.items():
        monkeypatch.setenv(prefix + field.upper(), value)


def _creds(host_id: str) -> dict[str, str]:
    fields = {
        "xfs_session": ("username", "password"),
        "xfs_api": ("api_key",),
        "nitroflare": ("user_hash", "email", "premium_key"),
    }[FAMILY[host_id]]
    return {f: CREDENTIALS[f] for f in fields}


@pytest.mark.parametrize("host_id", sorted(CHECKS))
def test_hosts_check_shows_what_the_account_api_reports(
    capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host_id: str
) -> None:
    options, facts = CHECKS[host_id]
    creds = _creds(host_id)
    with FakeHost(FAMILY[host_id], credentials=creds,
                  options={**FAKE_OPTIONS.get(host_id, {}), **options}) as fake:  # fmt: skip
        _check_env(monkeypatch, host_id, fake, creds)
        code, out, _err = run_main(capsys, tmp_path / "home", "hosts", host_id, "--check")
        json_code, doc, _ = run_main(
            capsys, tmp_path / "home", "hosts", host_id, "--check", "--json"
        )
    assert code == 0 and json_code == 0
    assert f"credentials ok, {facts}\n" in out
    check = json.loads(doc)["hosts"][0]["check"]
    assert check["status"] == "ok" and check["verified"] is True
    for secret in creds.values():
        assert secret not in out + doc


@pytest.mark.parametrize("host_id", sorted(CHECKS))
def test_hosts_check_with_a_wrong_secret_fails_as_auth(
    capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host_id: str
) -> None:
    creds = _creds(host_id)
    secret_field = {"xfs_session": "password", "xfs_api": "api_key"}.get(
        FAMILY[host_id], "premium_key"
    )
    with FakeHost(FAMILY[host_id], credentials=creds,
                  options=FAKE_OPTIONS.get(host_id, {})) as fake:  # fmt: skip
        _check_env(monkeypatch, host_id, fake, dict(creds, **{secret_field: "wrong-Secret-9"}))
        code, doc, _ = run_main(capsys, tmp_path / "home", "hosts", host_id, "--check", "--json")
    check = json.loads(doc)["hosts"][0]["check"]
    assert code == 1 and check["status"] == "failed" and check["error_kind"] == "auth"
    assert "wrong-Secret-9" not in doc


def test_nitroflare_check_without_the_premium_key_is_ok_but_unverified(
    capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = {"user_hash": CREDENTIALS["user_hash"]}
    with FakeHost("nitroflare", credentials=_creds("nitroflare")) as fake:
        _check_env(monkeypatch, "nitroflare", fake, creds)
        code, doc, _ = run_main(
            capsys, tmp_path / "home", "hosts", "nitroflare", "--check", "--json"
        )
        assert fake.requests == []
    check = json.loads(doc)["hosts"][0]["check"]
    assert code == 0 and check["status"] == "ok" and check["verified"] is False
