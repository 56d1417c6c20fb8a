"""Secrets are masked in text, URLs and every log record that reaches a file."""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from filehost_tui.redact import (
    SECRETS,
    RedactingFilter,
    SecretRegistry,
    install_log_redaction,
    redact_text,
    redact_tokens,
    redact_url,
    register_secret,
    reveal_for_sending,
)
from filehost_tui.secret import Secret


def unique_secret(prefix: str = "s3cr3t") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


# --- plain text -------------------------------------------------------------------------------


def test_redact_text_masks_each_known_value() -> None:
    text = "user alice logged in with hunter22 and key AKIA1234"
    assert (
        redact_text(text, ["hunter22", "AKIA1234"]) == "user alice logged in with *** and key ***"
    )


def test_redact_text_ignores_empty_and_very_short_values() -> None:
    assert redact_text("a 12 abc stays", ["", "a", "12", "abc"]) == "a 12 abc stays"


def test_redact_text_masks_a_longer_secret_whole_when_it_contains_a_shorter_one() -> None:
    assert redact_text("token=abcd1234efgh", ["abcd", "abcd1234efgh"]) == "token=***"


def test_redact_text_masks_url_encoded_forms_of_a_secret() -> None:
    secret = "p@ss w&rd/1"
    text = "sent password=p%40ss%20w%26rd%2F1 and pass=p%40ss+w%26rd%2F1"
    redacted = redact_text(text, [secret])
    assert "p%40ss" not in redacted
    assert redacted == "sent password=*** and pass=***"


# A secret with every character that some encoding rewrites: / + " & < > ' space, é and an emoji.
AWKWARD = "Zk9/aB3+Qx7\"q&<\u00e9>'Wv4 \U0001f600Tail"


def _php_json(value: str) -> str:
    """json_encode's default: slashes escaped, non-ASCII as \\uXXXX (surrogate pairs)."""
    return json.dumps(value)[1:-1].replace("/", "\\/")


def _json_hex(value: str) -> str:
    """json_encode with JSON_HEX_QUOT|JSON_HEX_TAG|JSON_HEX_AMP|JSON_HEX_APOS."""
    text = _php_json(value).replace('\\"', '"')
    for char in "\"&<>'":
        text = text.replace(char, f"\\u{ord(char):04X}")
    return text


ECHOED_FORMS = {
    "plain": lambda v: v,
    "url-encoded": lambda v: quote(v, safe=""),
    "form-encoded": quote_plus,
    "url-encoded lower-case hex": lambda v: re.sub(
        r"%[0-9A-F]{2}", lambda m: m[0].lower(), quote(v, safe="")
    ),
    "json with escaped slashes": _php_json,
    "json, utf-8 kept": lambda v: json.dumps(v, ensure_ascii=False)[1:-1],
    "json hex-escaped": _json_hex,
    "html-escaped": html.escape,
    "html character references": lambda v: "".join(c if c.isalnum() else f"&#{ord(c)};" for c in v),
    "html hex references": lambda v: "".join(c if c.isalnum() else f"&#x{ord(c):X};" for c in v),
}
# Base64 of text around the secret: (text before, text after) the secret.
BASE64_NEIGHBOURS = {"alone": ("", ""), "basic auth": ("alice:", ""), "in json": ('{"k":"', '"}')}


@pytest.mark.parametrize("form", ECHOED_FORMS)
def test_a_known_secret_is_masked_in_every_form_a_reply_can_carry_it(form: str) -> None:
    echoed = ECHOED_FORMS[form](AWKWARD)
    registry = SecretRegistry()
    registry.register(AWKWARD)

    assert registry.redact(f"host said: {echoed} (HTTP 403)") == "host said: *** (HTTP 403)"
    assert redact_text(echoed, [AWKWARD]) == "***"


@pytest.mark.parametrize("neighbours", BASE64_NEIGHBOURS)
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_base64_of_a_secret_is_masked_but_for_the_bits_it_shares(neighbours, encode) -> None:
    """A base64 character at each edge of the secret mixes in its neighbours' bits; the rest goes."""
    before, after = BASE64_NEIGHBOURS[neighbours]
    echoed = encode(f"{before}{AWKWARD}{after}".encode()).decode()
    masked = redact_text(echoed, [AWKWARD])
    assert masked.count("***") == 1
    kept = masked.replace("***", "")
    assert len(kept) <= len(base64.b64encode(f"{before}{after}".encode())) + 4


def test_two_overlapping_secrets_are_both_masked_whole() -> None:
    assert redact_text("a xxABCDEFGHyy b", ["xxABCD", "CDEFGHyy"]) == "a *** b"


def test_a_json_value_with_an_escaped_quote_is_masked_whole() -> None:
    text = '{"password": "ab\\"Tail-after-the-quote", "user": "bob"}'
    assert redact_tokens(text) == '{"password": "***", "user": "bob"}'


def test_a_json_value_cut_short_is_masked_to_the_end() -> None:
    assert redact_tokens('{"api_key": "ab\\"Tail-and-the-cut…') == '{"api_key": "***"'


def test_a_token_parameter_with_json_escapes_is_masked_whole() -> None:
    text = '{"url": "https://h\\/up?token=ab\\/cd\\"Tail&x=1"}'
    assert redact_tokens(text) == '{"url": "https://h\\/up?token=***&x=1"}'


def test_redact_text_treats_regex_characters_literally() -> None:
    assert redact_text("x (a+b)*c? y", ["(a+b)*c?"]) == "x *** y"


# --- URLs -------------------------------------------------------------------------------------


def test_redact_url_masks_every_query_value_and_keeps_the_rest() -> None:
    url = "https://up.example.test/api/upload?token=abc123&sess_id=XYZ&mode=fast#frag"
    assert (
        redact_url(url) == "https://up.example.test/api/upload?token=***&sess_id=***&mode=***#frag"
    )


def test_redact_url_masks_a_password_in_the_userinfo() -> None:
    assert redact_url("ftp://bob:hunter22@files.test:21/in/") == "ftp://bob:***@files.test:21/in/"


def test_redact_url_without_query_is_unchanged() -> None:
    url = "http://127.0.0.1:8080/files/abc"
    assert redact_url(url) == url


# --- token-shaped text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["token", "key", "password", "access_token", "auth", "sess_id", "api_key", "apikey"]
)
def test_token_like_parameters_are_masked(name: str) -> None:
    text = f"GET /upload?{name}=VALUE123&x=1 failed"
    assert redact_tokens(text) == f"GET /upload?{name}=***&x=1 failed"


def test_authorization_schemes_and_json_fields_are_masked() -> None:
    text = 'Authorization: Bearer eyJhbGciOi.abc.def body={"password": "pw-value", "user": "bob"}'
    redacted = redact_tokens(text)
    assert "eyJhbGciOi" not in redacted
    assert "pw-value" not in redacted
    assert '"user": "bob"' in redacted


def test_ordinary_text_is_left_alone() -> None:
    text = "uploaded 3 files to rapidgator in 12.5 s (mode=fast)"
    assert redact_tokens(text) == text


# --- registry ---------------------------------------------------------------------------------


def test_registry_masks_registered_values_and_ignores_short_ones() -> None:
    registry = SecretRegistry()
    registry.register("abc")
    registry.register(Secret("longer-secret"))
    assert len(registry) == 1
    assert registry.redact("abc longer-secret") == "abc ***"


def test_registry_accepts_registrations_from_many_threads() -> None:
    registry = SecretRegistry()
    values = [unique_secret() for _ in range(200)]
    start = threading.Barrier(8)

    def register(chunk: list[str]) -> None:
        start.wait(timeout=30)
        for value in chunk:
            registry.register(value)

    threads = [threading.Thread(target=register, args=(values[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(registry) == len(values)
    assert registry.redact(" ".join(values)) == " ".join(["***"] * len(values))


def test_revealing_for_sending_registers_the_value_process_wide() -> None:
    value = unique_secret()
    assert reveal_for_sending(Secret(value)) == value
    assert value in SECRETS
    assert SECRETS.redact(f"echo {value}") == "echo ***"


# --- log records ------------------------------------------------------------------------------


@pytest.fixture
def file_logger(tmp_path: Path) -> Iterator[tuple[logging.Logger, Path]]:
    """A real logger writing through a real FileHandler, with redaction installed."""
    log_file = tmp_path / "app.log"
    logger = logging.getLogger(f"test.redact.{uuid.uuid4().hex}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger.addHandler(handler)
    install_log_redaction(logger)
    try:
        yield logger, log_file
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_log_file_never_contains_a_registered_secret(
    file_logger: tuple[logging.Logger, Path],
) -> None:
    logger, log_file = file_logger
    password = unique_secret("pw")
    register_secret(password)
    user = f"user{uuid.uuid4().hex[:8]}"
    logger.info("login with %s for %s", password, user)
    logger.info("raw message mentioning " + password)
    logger.info({"password_field": password})
    text = log_file.read_text(encoding="utf-8")
    assert password not in text
    assert f"login with *** for {user}" in text
    assert "raw message mentioning ***" in text


def test_log_file_masks_tokens_in_urls_that_were_never_registered(
    file_logger: tuple[logging.Logger, Path],
) -> None:
    logger, log_file = file_logger
    logger.warning("POST %s -> 429", "http://127.0.0.1:9/upload?access_token=tok-98765&x=1")
    logger.warning("retrying with auth=aGVsbG8 and key=K-1234")
    text = log_file.read_text(encoding="utf-8")
    for leaked in ("tok-98765", "aGVsbG8", "K-1234"):
        assert leaked not in text
    assert "upload?access_token=***&x=1 -> 429" in text


def test_log_file_masks_secrets_in_tracebacks(file_logger: tuple[logging.Logger, Path]) -> None:
    logger, log_file = file_logger
    token = unique_secret("tb")
    register_secret(token)
    try:
        raise RuntimeError(f"server echoed {token}")
    except RuntimeError:
        logger.exception("upload failed")
    text = log_file.read_text(encoding="utf-8")
    assert token not in text
    assert "RuntimeError: server echoed ***" in text


def test_records_from_child_loggers_are_masked_by_the_parent_handler(tmp_path: Path) -> None:
    log_file = tmp_path / "runner.log"
    parent = logging.getLogger(f"test.parent.{uuid.uuid4().hex}")
    parent.propagate = False
    parent.setLevel(logging.INFO)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    parent.addHandler(handler)
    install_log_redaction(parent)
    secret = unique_secret("child")
    register_secret(secret)
    try:
        parent.getChild("hosts.client").info("token is %s", secret)
    finally:
        parent.removeHandler(handler)
        handler.close()
    text = log_file.read_text(encoding="utf-8")
    assert secret not in text
    assert "token is ***" in text


def test_installing_twice_adds_one_filter() -> None:
    logger = logging.getLogger(f"test.twice.{uuid.uuid4().hex}")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    first = install_log_redaction(logger)
    second = install_log_redaction(logger)
    assert first is second
    assert [type(f) for f in logger.filters] == [RedactingFilter]
    assert [type(f) for f in handler.filters] == [RedactingFilter]


def test_filter_lets_a_bad_format_string_through_to_logging() -> None:
    record = logging.makeLogRecord({"msg": "%d items", "args": ("not a number",)})
    assert RedactingFilter(SecretRegistry()).filter(record) is True
    assert record.args == ("not a number",)
