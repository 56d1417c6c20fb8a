"""Injected faults are observable at the HTTP level; throttle, shutdown and memory stay in bounds."""

from __future__ import annotations

import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakehost_client import (
    MULTIPART,
    call,
    catbox_upload,
    gofile_upload,
    k2s_form,
    k2s_upload,
    multipart,
    onefichier_upload,
    pixeldrain_upload,
    post_multipart,
    rapidgator_init,
    rapidgator_login,
    rapidgator_upload,
    xfs_api_upload,
    xfs_session_form,
    xfs_session_login,
    xfs_session_upload,
    zero_x0_upload,
)

from filehost_tui.demo import FakeHost

DATA = os.urandom(200_000)
MIB = 1024 * 1024


def _open_upload(fake: FakeHost, path: str, length: int, timeout: float = 10) -> Any:
    """Start a POST that declares `length` body bytes but sends none yet."""
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=timeout)
    conn.putrequest("POST", path)
    conn.putheader("Content-Type", MULTIPART["Content-Type"])
    conn.putheader("Content-Length", str(length))
    conn.endheaders()
    return conn


def test_status_fault_answers_after_the_body_and_the_retry_succeeds() -> None:
    with FakeHost("catbox") as fake:
        fake.inject("status", status=503, times=2)
        assert catbox_upload(fake.base_url, "a.bin", DATA).status == 503
        assert catbox_upload(fake.base_url, "a.bin", DATA).status == 503
        assert catbox_upload(fake.base_url, "a.bin", DATA).status == 200
        assert fake.upload_attempts == 3 and len(fake.received) == 1
        assert fake.errors == []


def test_429_fault_carries_retry_after() -> None:
    with FakeHost("0x0") as fake:
        fake.inject("status", retry_after=7)
        resp = zero_x0_upload(fake.base_url, "a.bin", DATA)
        assert (resp.status, resp.headers["retry-after"]) == (429, "7")


def test_step_parameter_targets_another_step_than_the_upload() -> None:
    with FakeHost("rapidgator") as fake:
        fake.inject("status", status=500, step="login")
        assert rapidgator_login(fake.base_url).status == 500
        assert rapidgator_upload(fake.base_url, "a.bin", DATA).startswith(fake.base_url)
        assert fake.login_count == 1  # the faulted request never reached the family


def test_reset_fault_aborts_the_connection_mid_body(capfd: pytest.CaptureFixture[str]) -> None:
    with FakeHost("gofile") as fake:
        fake.inject("reset", after_bytes=64 * 1024)
        with pytest.raises(ConnectionError):
            gofile_upload(fake.base_url, "big.bin", os.urandom(4 * MIB))
        assert fake.received == [] and fake.upload_attempts == 1
        assert gofile_upload(fake.base_url, "a.bin", DATA).json()["status"] == "ok"
        assert fake.errors == []
    assert capfd.readouterr().err == ""  # quiet: no request log, no tracebacks


def test_stall_fault_never_answers_and_stop_returns_within_two_seconds(
    capfd: pytest.CaptureFixture[str],
) -> None:
    fake = FakeHost("xfs_api").start()
    fake.inject("stall")
    conn = _open_upload(fake, "/cgi-bin/upload.cgi", 10 * MIB, timeout=0.5)
    conn.send(b"x" * 1000)
    assert fake.wait_for_attempts(1, timeout=10)
    with pytest.raises(TimeoutError):
        conn.getresponse()
    idle = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    idle.connect()  # an idle keep-alive connection must not hold stop() either
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 2.0
    conn.close()
    idle.close()
    assert capfd.readouterr().err == ""


def test_client_abort_mid_body_is_not_an_error_and_records_nothing() -> None:
    with FakeHost("gofile") as fake:
        conn = _open_upload(fake, "/uploadfile", 10 * MIB)
        conn.send(multipart({}, [("file", "a.bin", DATA)])[:100_000])
        assert fake.wait_for_attempts(1, timeout=10)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()  # TCP RST, like curl aborting a cancelled transfer
        assert gofile_upload(fake.base_url, "b.bin", DATA).json()["status"] == "ok"
        assert [r.name for r in fake.received] == ["b.bin"]
    assert fake.errors == []


def test_early_413_answers_before_the_body_and_closes() -> None:
    with FakeHost("pixeldrain") as fake:
        fake.inject("early_413")
        conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
        conn.putrequest("PUT", "/api/file/big.bin")
        conn.putheader("Content-Length", str(50 * MIB))
        conn.endheaders()
        resp = conn.getresponse()
        assert resp.status == 413 and resp.getheader("Connection") == "close"
        assert json.loads(resp.read())["value"] == "file_too_large"
        conn.close()
        assert fake.upload_attempts == 1 and fake.received == []


def test_garbage_fault_hits_the_step_that_carries_the_link() -> None:
    with FakeHost("catbox") as fake:
        fake.inject("garbage")
        resp = catbox_upload(fake.base_url, "a.bin", DATA)
        assert (resp.status, resp.text) == (200, "<html>oops")
    with FakeHost("rapidgator") as fake:
        fake.inject("garbage")  # rapidgator's link comes from upload_info, so the poll is hit
        with pytest.raises(json.JSONDecodeError):
            rapidgator_upload(fake.base_url, "a.bin", DATA)
        assert len(fake.received) == 1


def _no_link_checks() -> dict[str, Callable[[str], bool]]:
    def rapidgator(base: str) -> bool:
        try:
            rapidgator_upload(base, "a.bin", DATA)
        except TypeError:  # "file" is null
            return True
        return False

    def onefichier(base: str) -> bool:
        try:
            onefichier_upload(base, "a.bin", DATA)
        except IndexError:  # "links" is empty
            return True
        return False

    return {
        "rapidgator": rapidgator,
        "onefichier": onefichier,
        "k2s": lambda b: "link" not in _k2s_reply(b),
        "xfs_api": lambda b: "file_code" not in xfs_api_upload(b, "a.bin", DATA).json()[0],
        "xfs_session": lambda b: _raises(AttributeError, xfs_session_upload, b, "a.bin", DATA),
        "gofile": lambda b: "downloadPage" not in gofile_upload(b, "a.bin", DATA).json()["data"],
        "pixeldrain": lambda b: "id" not in pixeldrain_upload(b, "a.bin", DATA).json(),
        "catbox": lambda b: catbox_upload(b, "a.bin", DATA).text == "",
        "0x0": lambda b: zero_x0_upload(b, "a.bin", DATA).text == "",
    }


def _k2s_reply(base: str) -> dict[str, Any]:
    form = k2s_form(base).json()
    return post_multipart(form["form_action"], form["form_data"], [("file", "a", DATA)]).json()


def _raises(exc: type[Exception], fn: Callable[..., Any], *args: Any) -> bool:
    try:
        fn(*args)
    except exc:
        return True
    return False


@pytest.mark.parametrize("family", sorted(_no_link_checks()))
def test_no_link_fault_answers_success_without_the_link(family: str) -> None:
    with FakeHost(family) as fake:
        fake.inject("no_link")
        assert _no_link_checks()[family](fake.base_url)
        assert fake.errors == []


def test_expired_token_makes_rapidgator_answer_invalid_token_until_relogin() -> None:
    with FakeHost("rapidgator") as fake:
        token = rapidgator_login(fake.base_url).json()["response"]["token"]
        fake.inject("expired_token")
        assert (
            rapidgator_init(fake.base_url, token, "a", DATA).json()["details"]
            == "Error: Invalid token"
        )
        assert (
            rapidgator_init(fake.base_url, token, "a", DATA).json()["details"]
            == "Error: Invalid token"
        )
        assert rapidgator_upload(fake.base_url, "a.bin", DATA).startswith(fake.base_url)
        assert fake.login_count == 2


def test_expired_token_sends_xfs_session_back_to_the_login_page() -> None:
    with FakeHost("xfs_session") as fake:
        cookie = xfs_session_login(fake.base_url).headers["set-cookie"].split(";")[0]
        fake.inject("expired_token")
        assert "op=login" in xfs_session_form(fake.base_url, cookie).text
        assert "op=login" in xfs_session_form(fake.base_url, cookie).text  # that cookie is dead
        assert xfs_session_upload(fake.base_url, "a.bin", DATA).startswith(fake.base_url)


def _is_auth_error(family: str, base: str) -> bool:
    if family == "k2s":
        return k2s_form(base).json().get("errorCode") == 10
    if family == "onefichier":
        url = f"{base}/v1/upload/get_upload_server.cgi"
        return call("GET", url, headers={"Authorization": "Bearer k"}).status == 401
    if family == "gofile":
        return gofile_upload(base, "a", DATA, token="t").json()["status"] == "error-auth"
    return pixeldrain_upload(base, "a", DATA).status == 401


@pytest.mark.parametrize("family", ["k2s", "onefichier", "gofile", "pixeldrain"])
def test_expired_token_answers_the_family_auth_error_once(family: str) -> None:
    with FakeHost(family) as fake:
        fake.inject("expired_token")
        assert _is_auth_error(family, fake.base_url)
        assert not _is_auth_error(family, fake.base_url)


def test_flood_and_rate_limit_body_faults() -> None:
    with FakeHost("onefichier") as fake:
        fake.inject("flood", step="server")
        resp = call("GET", f"{fake.base_url}/v1/upload/get_upload_server.cgi")
        assert (resp.status, resp.text) == (403, "Flood detected: IP Locked #1")
    with FakeHost("gofile") as fake:
        fake.inject("rate_limit_body")
        resp = gofile_upload(fake.base_url, "a.bin", DATA)
        assert (resp.status, resp.json()["status"]) == (200, "error-rateLimit")


def test_processing_fault_makes_one_rapidgator_poll_say_still_processing() -> None:
    with FakeHost("rapidgator") as fake:
        token = rapidgator_login(fake.base_url).json()["response"]["token"]
        upload = rapidgator_init(fake.base_url, token, "a", DATA).json()["response"]["upload"]
        post_multipart(upload["url"], {}, [("file", "a", DATA)])
        fake.inject("processing")
        params = {"token": token, "upload_id": upload["upload_id"]}
        info_url = f"{fake.base_url}/api/v2/file/upload_info"
        states = [call("GET", info_url, params=params).json()["response"]["upload"]["state"]
                  for _ in range(2)]  # fmt: skip
        assert states == [1, 2]


def test_quota_fault_answers_the_k2s_quota_error_code() -> None:
    with FakeHost("k2s") as fake:
        fake.inject("quota", step="server")
        assert k2s_form(fake.base_url).json()["errorCode"] == 75
        assert k2s_upload(fake.base_url, "a.bin", DATA).startswith(fake.base_url)


def test_unknown_fault_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        FakeHost("0x0").inject("meteor")


def test_throttle_slows_a_two_mib_upload() -> None:
    data = os.urandom(2 * MIB)
    with FakeHost("0x0", throttle_bps=MIB) as fake:
        started = time.monotonic()
        assert zero_x0_upload(fake.base_url, "a.bin", data).status == 200
        assert time.monotonic() - started >= 0.6 * 2.0


def test_throttle_fault_slows_one_request_only() -> None:
    data = os.urandom(MIB // 2)
    with FakeHost("0x0") as fake:
        fake.inject("throttle", bytes_per_s=MIB // 2)
        started = time.monotonic()
        zero_x0_upload(fake.base_url, "a.bin", data)
        assert time.monotonic() - started >= 0.6
        assert len(fake.received) == 1


RSS_SCRIPT = textwrap.dedent(
    """
    import hashlib, http.client, json, os, resource, sys
    sys.path.insert(0, sys.argv[1])
    from fakehost_client import MULTIPART, multipart_stream, zero_x0_upload
    from filehost_tui.demo import FakeHost

    chunk, count = os.urandom(256 * 1024), 1200  # 300 MiB
    expected = hashlib.md5()
    for _ in range(count):
        expected.update(chunk)
    with FakeHost("0x0") as fake:
        zero_x0_upload(fake.base_url, "warmup.bin", os.urandom(4 * 1024 * 1024))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        body = list(multipart_stream("file", "big.bin", [b""]))
        length = sum(map(len, body)) + len(chunk) * count
        conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=120)
        stream = multipart_stream("file", "big.bin", (chunk for _ in range(count)))
        conn.request("POST", "/", body=stream, headers={**MULTIPART, "Content-Length": str(length)})
        status = conn.getresponse().status
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        got = fake.received[-1]
    print(json.dumps({"status": status, "grew_kib": after - before, "size": got.size,
                      "md5_ok": got.md5 == expected.hexdigest()}))
    """
)


def test_a_300_mib_upload_keeps_the_server_memory_flat() -> None:
    tests_dir = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": str(tests_dir.parent)}
    out = subprocess.run([sys.executable, "-c", RSS_SCRIPT, str(tests_dir)], env=env,
                         capture_output=True, text=True, timeout=240, check=True)  # fmt: skip
    result = json.loads(out.stdout)
    assert result["status"] == 200 and result["md5_ok"] and result["size"] == 300 * MIB
    assert result["grew_kib"] < 50 * 1024
