"""Real pycurl uploads through the spec interpreter against each family's fake host on 127.0.0.1.

Every built-in spec runs unchanged; only its base_url is pointed at the fake (named bases follow).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.hosts.client import HostClient, UploadResult
from filehost_tui.hosts.spec_loader import load_specs
from tests.host_harness import (
    FAMILY_OF,
    SPECS,
    host_factory,
    md5_of,
    never_cancel,
    request_steps,
    sample_file,
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_file(tmp_path_factory)


@pytest.fixture
def host() -> Iterator[Any]:
    with host_factory() as make:
        yield make


@pytest.mark.parametrize("host_id", sorted(FAMILY_OF))
def test_builtin_spec_uploads_to_its_fake_family_and_returns_the_link(
    host: Any, sample: Path, host_id: str
) -> None:
    h = host(host_id)
    result = h.upload(sample)
    assert result.url.startswith(h.fake.base_url + "/")
    assert result.file_id
    [received] = h.fake.received
    assert received.md5 == md5_of(sample) and received.size == sample.stat().st_size


def test_progress_covers_hashing_and_sending_and_ends_at_file_size(host: Any, sample: Path) -> None:
    seen: list[tuple[int, int]] = []
    host("rapidgator").upload(sample, progress=lambda d, t: seen.append((d, t)) and False)
    size = sample.stat().st_size
    assert {t for _, t in seen} == {size}
    assert seen[-1][0] == size and max(d for d, _ in seen) == size


def test_expired_token_causes_exactly_one_relogin_then_success(host: Any, sample: Path) -> None:
    h = host("rapidgator")
    h.fake.inject("expired_token")
    assert h.upload(sample).url
    assert h.fake.login_count == 2
    assert len(h.fake.received) == 1


def test_two_expiries_in_a_row_fail_with_auth_instead_of_looping(host: Any, sample: Path) -> None:
    h = host("rapidgator")
    h.fake.inject("expired_token", times=2)
    error = h.failure(sample)
    assert error.kind is ErrorKind.AUTH
    assert h.fake.login_count == 2
    assert h.fake.received == []


def test_expired_session_cookie_logs_in_again_once(host: Any, sample: Path) -> None:
    h = host("filespace")
    assert h.upload(sample).url
    h.fake.inject("expired_token")
    assert h.upload(sample).url
    assert h.fake.login_count == 2
    assert len(h.fake.received) == 2


def test_token_is_shared_by_concurrent_workers(host: Any, sample: Path) -> None:
    h = host("rapidgator")
    results: list[UploadResult] = []
    copies = []
    for i in range(3):  # distinct contents: no dedup shortcut
        copy = sample.with_name(f"copy{i}.bin")
        copy.write_bytes(sample.read_bytes() + bytes([i]))
        copies.append(copy)
    workers = [threading.Thread(target=lambda p=p: results.append(h.upload(p))) for p in copies]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert len(results) == 3 and h.fake.login_count == 1


def test_single_use_session_id_is_fetched_fresh_for_each_upload(host: Any, sample: Path) -> None:
    h = host("katfile")
    first, second = h.upload(sample), h.upload(sample)
    assert first.url != second.url
    sessions = [r.fields["sess_id"] for r in h.fake.received]
    assert len(sessions) == 2 and sessions[0] != sessions[1]


def test_rapidgator_dedup_returns_link_without_sending_the_body_again(
    host: Any, sample: Path
) -> None:
    h = host("rapidgator")
    h.upload(sample)
    second = h.upload(sample)
    assert second.url.startswith(h.fake.base_url) and second.file_id
    assert h.fake.upload_attempts == 1 and len(h.fake.received) == 1
    steps = request_steps(h.fake)
    assert steps == ["login", "server", "upload", "poll", "server"]


FAULTS = [
    # host id, fault kind, fault params, HostSettings extras, expected kind
    ("catbox", "status", {"status": 429, "retry_after": 7}, {}, ErrorKind.RATE_LIMITED),
    ("keep2share", "status", {"status": 429, "retry_after": 7}, {}, ErrorKind.RATE_LIMITED),
    ("gofile", "status", {"status": 503}, {}, ErrorKind.SERVER),
    ("katfile", "status", {"status": 503}, {}, ErrorKind.SERVER),
    ("pixeldrain", "reset", {"after_bytes": 256 * 1024}, {}, ErrorKind.NETWORK),
    ("0x0", "stall", {"after_bytes": 64 * 1024}, {"low_speed_time": 1}, ErrorKind.TIMEOUT),
    ("pixeldrain", "early_413", {}, {}, ErrorKind.TOO_LARGE),
    ("keep2share", "early_413", {}, {}, ErrorKind.TOO_LARGE),
    ("gofile", "garbage", {}, {}, ErrorKind.BAD_RESPONSE),
    ("rapidgator", "garbage", {"times": 3}, {}, ErrorKind.BAD_RESPONSE),  # 3 polls in a row
    ("catbox", "garbage", {}, {}, ErrorKind.BAD_RESPONSE),
    ("catbox", "no_link", {}, {}, ErrorKind.BAD_RESPONSE),
    ("keep2share", "no_link", {}, {}, ErrorKind.BAD_RESPONSE),
    ("1fichier", "no_link", {}, {}, ErrorKind.BAD_RESPONSE),
    ("filespace", "no_link", {}, {}, ErrorKind.BAD_RESPONSE),
    ("rapidgator", "no_link", {}, {}, ErrorKind.BAD_RESPONSE),
    ("keep2share", "quota", {}, {}, ErrorKind.QUOTA),
    ("keep2share", "expired_token", {}, {}, ErrorKind.AUTH),
    ("1fichier", "flood", {}, {}, ErrorKind.RATE_LIMITED),
    ("gofile", "rate_limit_body", {}, {}, ErrorKind.RATE_LIMITED),
]


@pytest.mark.parametrize(
    ("host_id", "fault", "params", "settings", "kind"),
    FAULTS,
    ids=[f"{f[0]}-{f[1]}-{f[2].get('status', '')}".rstrip("-") for f in FAULTS],
)
def test_fault_ends_in_the_right_error_kind(
    host: Any, sample: Path, host_id: str, fault: str, params: dict, settings: dict, kind: ErrorKind
) -> None:
    h = host(host_id, **settings)
    h.fake.inject(fault, **params)
    started = time.monotonic()
    error = h.failure(sample)
    assert error.kind is kind, str(error)
    assert time.monotonic() - started < 30
    if "retry_after" in params:
        assert error.retry_after == params["retry_after"]


# Steps whose protocol answers with a 302 (read, never followed): there a redirect is the reply.
EXPECTS_REDIRECT = {
    ("1fichier", "upload"),
    ("filespace", "login"),
    ("filedot", "login"),
    ("filejoker", "login"),
}


@pytest.mark.parametrize("host_id", sorted(FAMILY_OF))
def test_a_redirect_at_any_step_is_never_a_success(
    host: Any, sample: Path, tmp_path: Path, host_id: str
) -> None:
    h = host(host_id)
    h.upload(sample)
    steps = list(dict.fromkeys(request_steps(h.fake)))
    for step in steps:
        fresh = tmp_path / f"{step}.bin"  # a new file: no host skips its upload as a duplicate
        fresh.write_bytes(os.urandom(256 * 1024))
        # times=3: a poll asks again after a failed reply, up to 3 in a row
        h.fake.inject("redirect", step=step, times=3, to="/login?next=upload")
        h.client = h.make_client()  # no cached login: the login step is asked too
        error = h.failure(fresh)
        h.fake.clear_faults()
        if (host_id, step) in EXPECTS_REDIRECT:
            continue  # the upload still fails: that step's reply lacks what the protocol needs
        assert error.kind is ErrorKind.BAD_RESPONSE, f"{step}: {error}"
        assert f"redirected to {h.fake.base_url}/login?next=***" in error.message, step


def test_flood_lock_suggests_waiting_a_minute(host: Any, sample: Path) -> None:
    h = host("1fichier")
    h.fake.inject("flood")
    assert h.failure(sample).retry_after == 60


def test_wrong_credentials_fail_with_auth_and_never_show_the_secret(
    host: Any, sample: Path
) -> None:
    for host_id, field in (("rapidgator", "password"), ("1fichier", "api_key")):
        h = host(host_id)
        wrong = dict(h.creds, **{field: "wrong-Secret-value"})
        with pytest.raises(UploadError) as caught:
            h.make_client(wrong).upload(sample, name="x.bin", progress=never_cancel)
        assert caught.value.kind is ErrorKind.AUTH
        assert "wrong-Secret-value" not in str(caught.value)


def test_error_messages_mask_tokens_in_urls(host: Any, sample: Path) -> None:
    h = host("rapidgator")
    h.fake.inject("status", status=503, step="server")
    error = h.failure(sample)
    assert error.kind is ErrorKind.SERVER
    assert "token=***" in error.message and "/api/v2/file/upload" in error.message


def test_cancel_during_md5_stops_before_any_request(host: Any, sample: Path) -> None:
    h = host("rapidgator")
    error = h.failure(sample, progress=lambda done, total: done > 0)
    assert error.kind is ErrorKind.CANCELLED
    assert h.fake.login_count == 0 and h.fake.requests == []


def test_cancel_during_upload_aborts_the_transfer(host: Any, sample: Path) -> None:
    h = host("catbox")
    # progress counts the bytes the host took (docs/architecture.md, 'The speed meter'): an
    # unthrottled loopback host takes the whole sample before the first count, so slow it down
    h.fake.throttle_bps = 256 * 1024
    error = h.failure(sample, progress=lambda done, total: done > 0)
    assert error.kind is ErrorKind.CANCELLED
    assert h.fake.received == []


def test_check_account_verifies_login_and_api_keys(host: Any) -> None:
    rapidgator = host("rapidgator")
    info = rapidgator.client.check_account()
    assert info.verified and info.premium is True
    assert info.storage_left == 4 * 2**40 and info.max_file_size == 50 * 2**30
    with pytest.raises(UploadError) as caught:
        rapidgator.make_client(dict(rapidgator.creds, password="bad-pass-word")).check_account()
    assert caught.value.kind is ErrorKind.AUTH
    katfile = host("katfile")
    assert katfile.client.check_account().verified
    with pytest.raises(UploadError) as caught:
        katfile.make_client({"api_key": "bad-key-value"}).check_account()
    assert caught.value.kind is ErrorKind.AUTH
    assert host("catbox").client.check_account().verified is False


def test_check_account_reads_k2s_premium_and_rejects_a_bad_access_token(host: Any) -> None:
    k2s = host("keep2share")
    info = k2s.client.check_account()
    assert info.verified and info.premium is True and info.storage_left is None
    with pytest.raises(UploadError) as caught:
        k2s.make_client({"access_token": "bad-token-value"}).check_account()
    assert caught.value.kind is ErrorKind.AUTH and "bad-token-value" not in str(caught.value)


def test_poll_waits_while_the_host_is_still_processing(host: Any, sample: Path) -> None:
    h = host("rapidgator")
    h.fake.inject("processing")
    assert h.upload(sample).url
    assert request_steps(h.fake) == ["login", "server", "upload", "poll", "poll"]


@pytest.mark.parametrize("fault", [{"kind": "garbage"}, {"kind": "status", "status": 502}])
def test_a_failed_poll_reply_is_asked_again_the_file_is_already_there(
    host: Any, sample: Path, fault: dict
) -> None:
    h = host("rapidgator")
    h.fake.inject(fault.pop("kind"), step="poll", times=2, **fault)
    assert h.upload(sample).url
    assert request_steps(h.fake) == ["login", "server", "upload", "poll", "poll", "poll"]
    assert h.fake.upload_attempts == 1


def test_poll_gives_up_at_its_deadline_with_a_timeout(host: Any, sample: Path) -> None:
    h = host("rapidgator")
    upload_info = h.spec.steps[2]
    assert upload_info.poll is not None
    quick = replace(upload_info.poll, interval=0.1, timeout=0.5)
    h.spec = replace(h.spec, steps=(*h.spec.steps[:2], replace(upload_info, poll=quick)))
    h.client = h.make_client()
    h.fake.inject("processing", times=100)
    assert h.failure(sample).kind is ErrorKind.TIMEOUT


def test_optional_credential_is_left_out_when_absent(host: Any, sample: Path) -> None:
    h = host("gofile")
    assert h.make_client({}).upload(sample, name="guest.bin", progress=never_cancel).url
    h = host("catbox")
    h.make_client({}).upload(sample, name="anon.bin", progress=never_cancel)
    assert "userhash" not in h.fake.received[0].fields


def test_user_spec_can_read_the_file_id_from_a_response_header(
    host: Any, sample: Path, tmp_path: Path
) -> None:
    builtin = SPECS["0x0"].source
    assert builtin is not None
    text = builtin.read_text(encoding="utf-8").replace(
        "file_id = { body = true, regex = '/([^/\\s]+)\\s*$', optional = true }",
        'file_id = { header = "X-Token" }',
    )
    assert 'header = "X-Token"' in text
    (tmp_path / "hosts").mkdir()
    (tmp_path / "hosts" / "0x0.toml").write_text(text, encoding="utf-8")
    registry = load_specs(tmp_path / "hosts")
    assert registry.errors == []
    h = host("0x0")
    client = HostClient(registry.specs["0x0"], h.settings, {})
    result = client.upload(sample, name=sample.name, progress=never_cancel)
    assert result.file_id and len(result.file_id) == 22 and result.file_id not in result.url


def test_missing_file_is_not_found(host: Any, tmp_path: Path) -> None:
    error = host("catbox").failure(tmp_path / "gone.bin")
    assert error.kind is ErrorKind.NOT_FOUND
