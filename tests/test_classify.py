"""Replies from a real loopback server are judged: host rules first, then the HTTP status."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import formatdate

import pytest

from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.hosts.classify import ErrorRule, classify_response, parse_retry_after
from filehost_tui.hosts.transfer import Transfer
from filehost_tui.hosts.wire import Response
from tests.loopback_http import LoopbackServer, Plan


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def transfer() -> Iterator[Transfer]:
    t = Transfer(connect_timeout=10)
    yield t
    t.close()


@pytest.fixture
def reply(server, transfer):
    """Fetch a reply the server was told to give, over a real connection."""

    def fetch(status: int = 200, body: bytes = b"{}", **headers: str) -> Response:
        server.plan(Plan(status=status, body=body, headers=headers))
        return transfer.request("GET", server.url + "/api?token=SECRET")

    return fetch


def test_429_with_retry_after_seconds_is_rate_limited(reply):
    err = classify_response(reply(429, b"slow down", **{"Retry-After": "7"}))

    assert err is not None and err.kind is ErrorKind.RATE_LIMITED
    assert err.retry_after == 7.0 and err.retryable


def test_429_with_retry_after_http_date_is_rate_limited(reply):
    when = formatdate(time.time() + 120, usegmt=True)
    err = classify_response(reply(429, b"", **{"Retry-After": when}))

    assert err is not None and err.kind is ErrorKind.RATE_LIMITED
    assert 110 <= err.retry_after <= 121


def test_429_without_retry_after_has_no_hint(reply):
    err = classify_response(reply(429))
    assert err is not None and err.kind is ErrorKind.RATE_LIMITED and err.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_server_error(reply, status):
    err = classify_response(reply(status, b"<h1>Bad Gateway</h1>"))

    assert err is not None and err.kind is ErrorKind.SERVER and err.retryable
    assert f"HTTP {status}" in err.message and "Bad Gateway" in err.message


def test_503_retry_after_is_honoured(reply):
    err = classify_response(reply(503, b"maintenance", **{"Retry-After": "30"}))
    assert err is not None and err.kind is ErrorKind.SERVER and err.retry_after == 30.0


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, ErrorKind.AUTH),
        (403, ErrorKind.AUTH),
        (413, ErrorKind.TOO_LARGE),
        (404, ErrorKind.BAD_RESPONSE),
        (400, ErrorKind.BAD_RESPONSE),
    ],
)
def test_client_errors_map_by_status(reply, status, kind):
    err = classify_response(reply(status))
    assert err is not None and err.kind is kind and not err.retryable


@pytest.mark.parametrize("status", [200, 201, 204])
def test_success_without_rule_is_not_an_error(reply, status):
    assert classify_response(reply(status, b"" if status == 204 else b"{}")) is None


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_whose_body_is_a_link_is_a_failure_naming_the_location(reply, status):
    resp = reply(status, b"https://host.example/f/abc", Location="https://host.example/login")
    err = classify_response(resp)

    assert err is not None and err.kind is ErrorKind.BAD_RESPONSE and not err.retryable
    assert f"HTTP {status}" in err.message
    assert "redirected to https://host.example/login" in err.message


def test_redirect_location_is_made_absolute_masked_and_printable(reply, server):
    err = classify_response(reply(302, b"", Location="/in\x1b]0;t\x07?sid=S3CR3T"))

    assert err is not None
    assert f"redirected to {server.url}/in\\x1b]0;t\\x07?sid=***" in err.message
    assert "S3CR3T" not in err.message and "\x1b" not in err.message


def test_redirect_without_location_is_a_failure(reply):
    err = classify_response(reply(303, b""))
    assert err is not None and err.kind is ErrorKind.BAD_RESPONSE
    assert "without a Location" in err.message


def test_a_step_that_expects_a_redirect_takes_it_as_its_reply(reply):
    resp = reply(302, b"", Location="/end.pl?xid=1")
    assert classify_response(resp, expect_redirect=True) is None
    rule = ErrorRule(ErrorKind.AUTH, status=302, body_regex="login")
    err = classify_response(reply(302, b"op=login"), [rule], expect_redirect=True)
    assert err is not None and err.kind is ErrorKind.AUTH  # the spec's own rules still apply


def test_garbage_json_reply_is_bad_response(reply):
    resp = reply(200, b"\x00\xffnot json{")

    with pytest.raises(UploadError) as info:
        resp.json()
    assert info.value.kind is ErrorKind.BAD_RESPONSE


def test_messages_never_contain_query_secrets(reply):
    err = classify_response(reply(500, b"oops"))
    assert err is not None and "SECRET" not in str(err) and "token=***" in err.message


# --- host rules ------------------------------------------------------------------------------------

STALE = ErrorRule(ErrorKind.AUTH, body_regex=r"Invalid token", message="token expired")
FLOOD = ErrorRule(ErrorKind.RATE_LIMITED, status=403, body_regex=r"Flood detected", retry_after=60)


def test_rule_matches_error_hidden_in_http_200(reply):
    err = classify_response(reply(200, b'{"status":401,"details":"Error: Invalid token"}'), [STALE])

    assert err is not None and err.kind is ErrorKind.AUTH and err.message == "token expired"


def test_rule_beats_generic_status_and_gives_its_retry_hint(reply):
    err = classify_response(reply(403, b"Flood detected: IP Locked #123"), [STALE, FLOOD])

    assert err is not None and err.kind is ErrorKind.RATE_LIMITED and err.retry_after == 60
    assert "Flood detected" in err.message  # no rule message: an excerpt of the body


def test_retry_after_header_beats_rule_hint(reply):
    err = classify_response(reply(403, b"Flood detected", **{"Retry-After": "5"}), [FLOOD])
    assert err is not None and err.retry_after == 5.0


def test_first_matching_rule_wins(reply):
    quota = ErrorRule(ErrorKind.QUOTA, body_regex=r'"errorCode":\s*7[56]')
    anything = ErrorRule(ErrorKind.BAD_RESPONSE, body_regex=r'"status":"error"')
    body = b'{"status":"error","code":403,"errorCode":75}'

    err = classify_response(reply(200, body), [quota, anything])
    assert err is not None and err.kind is ErrorKind.QUOTA


def test_rule_with_wrong_status_falls_through_to_generic(reply):
    err = classify_response(reply(403, b"Forbidden"), [ErrorRule(ErrorKind.QUOTA, status=402)])
    assert err is not None and err.kind is ErrorKind.AUTH


# --- Retry-After parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("1.5", 1.5),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("99999999", 24 * 3600.0),
    ],
)
def test_parse_retry_after_seconds(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date_relative_to_now():
    now = 1_700_000_000.0
    assert parse_retry_after(formatdate(now + 90, usegmt=True), now=now) == 90.0
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now=now) == 0.0
