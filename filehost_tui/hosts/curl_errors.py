"""libcurl error codes -> error kinds, and messages safe to show.

The kind decides retry policy: a refused connection or a reset is worth retrying, a certificate
failure never is (retrying cannot fix a missing CA), and a cancel must not be counted as a failure.
"""

from __future__ import annotations

import re

import pycurl

from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.redact import redact_tokens, redact_url

_TLS_CODES = {51, 58, 60, 77, 83, 90, 91}  # peer cert/name/CA-file/pinning/status failures
_BAD_REQUEST_CODES = {1, 3, 47}  # unsupported protocol, malformed URL, too many redirects
_CERT_TEXT = re.compile(r"certificate|\bCA\b|self[- ]signed|issuer", re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")

TLS_HINT = (
    "; if the host uses a private or corporate CA, set ca_bundle in config.toml "
    "to your CA file (PEM)"
)


def classify_curl_error(code: int, text: str = "") -> ErrorKind:
    """The error kind of a libcurl error code (and, for code 35, its message)."""
    if code == pycurl.E_ABORTED_BY_CALLBACK:
        return ErrorKind.CANCELLED
    if code == pycurl.E_OPERATION_TIMEDOUT:
        return ErrorKind.TIMEOUT
    if code in _TLS_CODES or (code == pycurl.E_SSL_CONNECT_ERROR and _CERT_TEXT.search(text)):
        return ErrorKind.TLS
    if code == pycurl.E_READ_ERROR:
        return ErrorKind.NOT_FOUND  # the local file could not be read (gone, truncated, unreadable)
    if code in _BAD_REQUEST_CODES:
        return ErrorKind.BAD_RESPONSE
    return ErrorKind.NETWORK  # resolve, connect, send, recv, reset, partial, nothing received, ...


def redact_urls_in(text: str) -> str:
    """Text (e.g. a libcurl message) with every URL in it passed through redact_url()."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


def transport_error(code: int, text: str, method: str, url: str) -> UploadError:
    """The UploadError for a failed libcurl transfer of `method url`; no secret reaches the text."""
    where = f"{method.upper()} {redact_url(url)}"
    kind = classify_curl_error(code, text)
    if kind is ErrorKind.CANCELLED:
        return UploadError(kind, f"{where}: cancelled")
    detail = redact_tokens(redact_urls_in(text)) or f"libcurl error {code}"
    if kind is ErrorKind.TLS:
        detail += TLS_HINT
    return UploadError(kind, f"{where}: {detail}")
