"""Real pycurl transfers against a real loopback server: streaming, stalls, resets, cancel, TLS."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.hosts.classify import classify_response
from filehost_tui.hosts.curl_errors import classify_curl_error, redact_urls_in
from filehost_tui.hosts.transfer import EXPECT_CONTINUE_FROM, Transfer, thread_transfer
from filehost_tui.hosts.wire import MAX_REPLY_BYTES, FieldPart, FilePart
from filehost_tui.redact import redact_url
from tests.loopback_http import LoopbackServer, Plan

MiB = 1024 * 1024


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture
def transfer() -> Iterator[Transfer]:
    t = Transfer(connect_timeout=10)
    yield t
    t.close()


def random_file(path: Path, size: int) -> tuple[Path, str]:
    data = os.urandom(size)
    path.write_bytes(data)
    return path, hashlib.md5(data).hexdigest()


def upload_error(call, *args, **kwargs) -> tuple[UploadError, float]:
    started = time.monotonic()
    with pytest.raises(UploadError) as info:
        call(*args, **kwargs)
    return info.value, time.monotonic() - started


# --- bodies arrive intact -------------------------------------------------------------------------


def test_multipart_upload_arrives_intact(server, transfer, tmp_path):
    path, md5 = random_file(tmp_path / "movie.bin", 3 * MiB + 17)
    parts = [FieldPart("sess_id", "S1"), FilePart("file_0", path, "vidéo 1.bin", "video/mp4")]
    resp = transfer.request("POST", server.url + "/cgi-bin/upload.cgi", multipart=parts)

    assert resp.status == 200
    field, file = server.requests[-1].parts
    assert (field.name, field.value) == ("sess_id", "S1")
    assert (file.name, file.filename, file.size, file.md5) == (
        "file_0",
        "vidéo 1.bin",
        path.stat().st_size,
        md5,
    )
    assert server.requests[-1].headers["content-type"].startswith("multipart/form-data")


def test_raw_put_streams_file_intact(server, transfer, tmp_path):
    path, md5 = random_file(tmp_path / "raw.bin", 5 * MiB + 3)
    resp = transfer.request(
        "PUT", server.url + "/api/file/raw.bin", body_file=path, basic_auth=("", "k3y")
    )

    got = server.requests[-1]
    assert (resp.status, got.method, got.size, got.md5) == (200, "PUT", path.stat().st_size, md5)
    assert got.headers["authorization"].startswith("Basic ")


def test_raw_post_body_file_sends_content_length(server, transfer, tmp_path):
    path, md5 = random_file(tmp_path / "raw.bin", 100_000)
    transfer.request("POST", server.url + "/raw", body_file=path)

    got = server.requests[-1]
    assert (got.method, got.size, got.md5) == ("POST", 100_000, md5)
    assert got.headers["content-length"] == "100000"


def test_large_bodies_ask_before_sending_small_ones_do_not(server, transfer, tmp_path):
    big, _ = random_file(tmp_path / "big.bin", EXPECT_CONTINUE_FROM)
    small, _ = random_file(tmp_path / "small.bin", EXPECT_CONTINUE_FROM - 1)
    transfer.request("POST", server.url + "/up", multipart=[FilePart("file", big, "f.bin")])
    transfer.request("PUT", server.url + "/put", body_file=big)
    transfer.request("PUT", server.url + "/put", body_file=small)
    transfer.request("POST", server.url + "/", form={"op": "login"})

    expects = [got.headers.get("expect") for got in server.requests]
    assert expects == ["100-continue", "100-continue", None, None]


def test_server_that_ignores_expect_still_gets_the_whole_body(server, transfer, tmp_path):
    path, md5 = random_file(tmp_path / "f.bin", 2 * MiB)
    server.plan(Plan(invite=False))
    resp = transfer.request("PUT", server.url + "/put", body_file=path)

    got = server.requests[-1]
    assert (resp.status, got.headers["expect"], got.size, got.md5) == (
        200,
        "100-continue",
        2 * MiB,
        md5,
    )


def test_form_and_json_bodies_and_params(server, transfer):
    transfer.request("POST", server.url + "/", form={"op": "login", "login": "me"})
    form_req = server.requests[-1]
    resp = transfer.request(
        "POST", server.url + "/api/v2/x", json_body={"access_token": "k"}, params={"a": "b c"}
    )

    assert form_req.md5 == hashlib.md5(b"op=login&login=me").hexdigest()
    assert server.requests[-1].headers["content-type"] == "application/json"
    assert (
        server.requests[-1].md5
        == hashlib.md5(json.dumps({"access_token": "k"}).encode()).hexdigest()
    )
    assert resp.json()["path"] == "/api/v2/x?a=b+c"


def test_progress_reports_uploaded_and_total(server, transfer, tmp_path):
    path, _ = random_file(tmp_path / "f.bin", 4 * MiB)
    seen: list[tuple[int, int]] = []

    def progress(uploaded: int, total: int) -> bool:
        seen.append((uploaded, total))
        return False

    transfer.request("PUT", server.url + "/p", body_file=path, progress=progress)

    assert seen[-1] == (4 * MiB, 4 * MiB)
    assert [up for up, _ in seen] == sorted(up for up, _ in seen)


# --- responses -------------------------------------------------------------------------------------


def test_headers_are_lower_cased_and_last_value_wins(server, transfer):
    server.plan(Plan(headers={"X-Token": "abc", "Set-Cookie": "xfss=S1; path=/"}, body=b"ok"))
    resp = transfer.request("GET", server.url + "/")

    assert resp.headers["x-token"] == "abc"
    assert ("set-cookie", "xfss=S1; path=/") in resp.header_items
    assert resp.text() == "ok"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_redirect_is_returned_never_followed_and_is_a_failure(server, transfer, method):
    location = "/files/abc?token=SECRET"
    server.plan(Plan(status=302, headers={"Location": location}, body=b"http://h.example/abc"))
    resp = transfer.request(method, server.url + "/upload.cgi")

    assert (resp.status, resp.url, len(server.requests)) == (302, server.url + "/upload.cgi", 1)
    err = classify_response(resp)
    assert err is not None and err.kind is ErrorKind.BAD_RESPONSE and not err.retryable
    assert f"redirected to {server.url}/files/abc?token=***" in err.message
    assert "SECRET" not in err.message


def test_garbage_json_is_bad_response_with_excerpt(server, transfer):
    server.plan(
        Plan(
            body=b"<html>  Service\n temporarily down </html>",
            headers={"Content-Type": "text/html"},
        )
    )
    resp = transfer.request("GET", server.url + "/api?key=SECRET")

    with pytest.raises(UploadError) as info:
        resp.json()
    assert info.value.kind is ErrorKind.BAD_RESPONSE
    assert "got 'Service temporarily down'" in info.value.message
    assert "SECRET" not in str(info.value)


def test_oversized_reply_is_bad_response(server, transfer):
    server.plan(Plan(body=b"x" * (MAX_REPLY_BYTES + 1)))
    err, _ = upload_error(transfer.request, "GET", server.url + "/huge")
    assert err.kind is ErrorKind.BAD_RESPONSE


# --- transport failures ------------------------------------------------------------------------------


def test_stalled_reply_times_out_after_low_speed_time(server, tmp_path):
    server.plan(Plan(stall_after=0))
    t = Transfer(low_speed_limit=1, low_speed_time=1)
    err, took = upload_error(t.request, "GET", server.url + "/wait")

    assert err.kind is ErrorKind.TIMEOUT
    assert took < 10


def test_overall_timeout_is_timeout_kind(server, transfer):
    server.plan(Plan(stall_after=0))
    err, took = upload_error(transfer.request, "GET", server.url + "/wait", timeout=0.5)

    assert err.kind is ErrorKind.TIMEOUT and err.retryable
    assert took < 5


def test_server_that_stops_reading_mid_upload_times_out(server, tmp_path):
    # libcurl judges speed over a ~5 s window, so the initial burst into socket buffers delays this.
    path, _ = random_file(tmp_path / "big.bin", 24 * MiB)
    server.plan(Plan(stall_after=MiB))
    t = Transfer(low_speed_limit=1, low_speed_time=1)
    err, took = upload_error(t.request, "PUT", server.url + "/put", body_file=path)

    assert err.kind is ErrorKind.TIMEOUT
    assert took < 30


def test_reset_mid_body_is_network_error(server, transfer, tmp_path):
    path, _ = random_file(tmp_path / "f.bin", 8 * MiB)
    server.plan(Plan(reset_after=MiB))
    err, _ = upload_error(transfer.request, "PUT", server.url + "/put?token=SECRET", body_file=path)

    assert err.kind is ErrorKind.NETWORK and err.retryable
    assert "SECRET" not in str(err)


@pytest.mark.parametrize("drain", [True, False], ids=["lingering-close", "hard-close"])
def test_early_413_is_returned_and_classified_too_large(server, transfer, tmp_path, drain):
    """A server that refuses on the headers alone gets asked first (`Expect: 100-continue`), so
    its 413 arrives before any body byte and a hard close cannot race the body.

    What is guaranteed is weaker than "always 413": a server slower to answer than the client's
    wait for "100 Continue" (EXPECT_CONTINUE_WAIT_MS) gets the body after all; when it then
    resets the connection, libcurl can fail on the send before it reads the refusal. That case
    is a retryable network error, and never a success.
    """
    path, _ = random_file(tmp_path / "f.bin", 16 * MiB)
    server.plan(
        Plan(status=413, early=True, drain_after_early=drain, body=b'{"value":"file_too_large"}')
    )
    started = time.monotonic()
    try:
        err = classify_response(
            transfer.request("PUT", server.url + "/api/file/f.bin", body_file=path)
        )
    except UploadError as exc:
        err = exc
        assert not drain and exc.kind is ErrorKind.NETWORK and exc.retryable, str(exc)

    assert time.monotonic() - started < 10
    assert err is not None
    assert err.kind in (ErrorKind.TOO_LARGE, ErrorKind.NETWORK), str(err)
    assert transfer.request("GET", server.url + "/next").status == 200  # handle still usable


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (413, b'{"value":"file_too_large"}', ErrorKind.TOO_LARGE),
        (404, b"no such upload server endpoint", ErrorKind.BAD_RESPONSE),
        (500, b"disk full, try another server", ErrorKind.SERVER),
        (302, b"http://h.example/file", ErrorKind.BAD_RESPONSE),
    ],
)
def test_refusal_whose_connection_breaks_is_still_the_answer(
    server, transfer, tmp_path, status, body, kind
):
    """The server's status line arrived, then a reset broke the transfer: the status is the
    answer (kind and reason), not "Connection reset", which would retry the whole body."""
    path, _ = random_file(tmp_path / "f.bin", 64 * 1024)
    server.plan(Plan(status=status, body=body, reset_in_reply=True))
    resp = transfer.request("PUT", server.url + "/api/file/f.bin", body_file=path)

    assert resp.status == status and body.startswith(resp.body)
    err = classify_response(resp)
    assert err is not None and err.kind is kind
    assert transfer.request("GET", server.url + "/next").status == 200


def test_success_whose_connection_breaks_is_never_a_success(server, transfer, tmp_path):
    path, _ = random_file(tmp_path / "f.bin", 64 * 1024)
    server.plan(Plan(body=b"http://h.example/file/abc", reset_in_reply=True))
    err, _ = upload_error(transfer.request, "PUT", server.url + "/put", body_file=path)

    assert err.kind is ErrorKind.NETWORK and err.retryable


def test_unreachable_port_is_network_error(transfer):
    with socket.socket() as sock:  # bound but not listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/up?api_key=SECRET"
        err, _ = upload_error(transfer.request, "GET", url)

    assert err.kind is ErrorKind.NETWORK
    assert "SECRET" not in str(err) and "api_key=***" in str(err)


def test_missing_local_file_is_not_found(server, transfer, tmp_path):
    for kwargs in (
        {"body_file": tmp_path / "gone"},
        {"multipart": [FilePart("f", tmp_path / "gone", "g")]},
    ):
        err, _ = upload_error(transfer.request, "PUT", server.url + "/", **kwargs)
        assert err.kind is ErrorKind.NOT_FOUND


# --- cancel and speed --------------------------------------------------------------------------------


def cancel_after_start(
    transfer: Transfer, url: str, path: Path, **kwargs
) -> tuple[UploadError, float]:
    """Upload; once bytes flow, another thread sets the flag the progress callback reads."""
    flowing, cancel = threading.Event(), threading.Event()
    flag_set_at: list[float] = []

    def progress(uploaded: int, total: int) -> bool:
        if uploaded:
            flowing.set()
        return cancel.is_set()

    def canceller() -> None:
        if flowing.wait(30):
            flag_set_at.append(time.monotonic())
            cancel.set()

    thread = threading.Thread(target=canceller)
    thread.start()
    err, _ = upload_error(transfer.request, "PUT", url, body_file=path, progress=progress, **kwargs)
    stopped_at = time.monotonic()
    thread.join()
    return err, stopped_at - flag_set_at[0]


def test_cancel_from_another_thread_stops_throttled_upload_within_1s(server, transfer, tmp_path):
    path, _ = random_file(tmp_path / "f.bin", 32 * MiB)
    server.plan(Plan(read_bps=256 * 1024))
    err, latency = cancel_after_start(transfer, server.url + "/slow", path)

    assert err.kind is ErrorKind.CANCELLED
    assert latency < 1.0


def test_cancel_stops_upload_limited_by_max_send_speed_within_1s(server, transfer, tmp_path):
    path, _ = random_file(tmp_path / "f.bin", 8 * MiB)
    err, latency = cancel_after_start(
        transfer, server.url + "/slow", path, max_send_speed=128 * 1024
    )

    assert err.kind is ErrorKind.CANCELLED
    assert latency < 1.0


def test_max_send_speed_caps_upload_rate(server, transfer, tmp_path):
    path, md5 = random_file(tmp_path / "f.bin", 640 * 1024)
    started = time.monotonic()
    transfer.request("PUT", server.url + "/capped", body_file=path, max_send_speed=320 * 1024)

    assert time.monotonic() - started >= 1.3  # 2 s at the cap; libcurl may burst a little at first
    assert server.requests[-1].md5 == md5


def test_exception_in_progress_callback_propagates(server, transfer, tmp_path):
    path, _ = random_file(tmp_path / "f.bin", MiB)

    def progress(uploaded: int, total: int) -> bool:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        transfer.request("PUT", server.url + "/", body_file=path, progress=progress)


# --- handles and connections ------------------------------------------------------------------------


def test_one_thread_reuses_one_connection(server, transfer, tmp_path):
    path, _ = random_file(tmp_path / "f.bin", MiB)
    transfer.request("GET", server.url + "/login?token=x")
    transfer.request("POST", server.url + "/up", multipart=[FilePart("file", path, "f.bin")])
    transfer.request("GET", server.url + "/poll")

    assert len({got.peer for got in server.requests}) == 1


def test_thread_transfer_is_per_thread_and_reused(server):
    mine = thread_transfer(connect_timeout=5.0)
    assert thread_transfer(connect_timeout=5.0) is mine

    others: list[Transfer] = []
    worker = threading.Thread(target=lambda: others.append(thread_transfer(connect_timeout=5.0)))
    worker.start()
    worker.join()
    assert others[0] is not mine
    assert thread_transfer(connect_timeout=9.0) is not mine  # other settings: their own handle
    assert thread_transfer(connect_timeout=5.0) is mine


# --- memory -----------------------------------------------------------------------------------------

_RSS_CHILD = r"""
import json, resource, sys
from pathlib import Path
from filehost_tui.hosts.transfer import Transfer
from filehost_tui.hosts.wire import FilePart

t = Transfer()
t.request("GET", sys.argv[1] + "/warm-up")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
resp = t.request("POST", sys.argv[1] + "/up",
                 multipart=[FilePart("file", Path(sys.argv[2]), "big.bin")],
                 progress=lambda up, total: False)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"status": resp.status, "growth_kib": after - before}))
"""


def test_1gib_sparse_upload_keeps_rss_flat(server, tmp_path):
    path = tmp_path / "sparse.bin"
    with path.open("wb") as fh:
        fh.truncate(1024 * MiB)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    out = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, server.url, str(path)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=True,
    )
    result = json.loads(out.stdout)

    assert result["status"] == 200
    assert result["growth_kib"] < 50 * 1024
    zeros, expected = bytes(MiB), hashlib.md5()
    for _ in range(1024):
        expected.update(zeros)
    (part,) = server.requests[-1].parts
    assert (part.size, part.md5) == (1024 * MiB, expected.hexdigest())


# --- TLS and redaction -------------------------------------------------------------------------------


@pytest.fixture
def self_signed(tmp_path) -> tuple[str, str]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return str(cert), str(key)


def test_self_signed_cert_fails_as_tls_unless_ca_bundle_given(self_signed):
    cert, key = self_signed
    with LoopbackServer(certfile=cert, keyfile=key) as srv:
        err, _ = upload_error(Transfer().request, "GET", srv.url + "/x?token=SECRET")
        resp = Transfer(ca_bundle=cert).request("GET", srv.url + "/x?token=SECRET")

    assert err.kind is ErrorKind.TLS and not err.retryable
    assert "ca_bundle" in err.message and "SECRET" not in str(err)
    assert resp.status == 200


@pytest.mark.parametrize(
    ("code", "text", "kind"),
    [
        (6, "Could not resolve host: example.invalid", ErrorKind.NETWORK),
        (7, "Failed to connect", ErrorKind.NETWORK),
        (18, "transfer closed with 10 bytes remaining", ErrorKind.NETWORK),
        (52, "Empty reply from server", ErrorKind.NETWORK),
        (55, "Send failure: Connection reset by peer", ErrorKind.NETWORK),
        (56, "Recv failure: Connection reset by peer", ErrorKind.NETWORK),
        (28, "Operation timed out", ErrorKind.TIMEOUT),
        (60, "SSL certificate problem: unable to get local issuer certificate", ErrorKind.TLS),
        (58, "unable to set private key file", ErrorKind.TLS),
        (77, "error setting certificate file", ErrorKind.TLS),
        (35, "OpenSSL: certificate verify failed", ErrorKind.TLS),
        (35, "TLS connect error: unexpected eof", ErrorKind.NETWORK),
        (42, "Callback aborted", ErrorKind.CANCELLED),
    ],
)
def test_curl_error_codes_map_to_kinds(code, text, kind):
    assert classify_curl_error(code, text) is kind


def test_urls_inside_curl_messages_are_redacted():
    text = "Could not reach http://h:1/up?key=SECRET&id=7 (after redirect)"
    assert redact_urls_in(text) == "Could not reach http://h:1/up?key=***&id=*** (after redirect)"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://h/api/v2/user/login?login=me&password=pw",
            "https://h/api/v2/user/login?login=***&password=***",
        ),
        (
            "http://127.0.0.1:8/upload?token=T&name=a%20b#frag",
            "http://127.0.0.1:8/upload?token=***&name=***#frag",
        ),
        ("https://user:pass@h/x", "https://user:***@h/x"),
        ("https://h/plain/path", "https://h/plain/path"),
    ],
)
def test_redact_url_masks_every_query_value(url, expected):
    assert redact_url(url) == expected
