"""What a fake family sees of a request and what it hands back.

Families never touch sockets: they get a `Request` whose body is pulled lazily (so an upload is
parsed while it streams in) and return a `Reply` that the server writes with a Content-Length.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

from filehost_tui.demo.body import BodyReader, ClientGone
from filehost_tui.demo.faults import Fault
from filehost_tui.demo.multipart import MultipartData, boundary_of, parse_multipart

SMALL_BODY = 1024 * 1024


class BadRequest(Exception):
    """The request is not what the protocol expects; answered 400 with this text."""


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def json_reply(obj: Any, status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(status, json.dumps(obj).encode(), "application/json", headers)


def text_reply(text: str, status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(status, text.encode(), "text/plain; charset=utf-8", headers)


def html_reply(html: str, status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(status, html.encode(), "text/html; charset=utf-8", headers)


@dataclass(frozen=True)
class RawFile:
    size: int
    md5: str


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]  # case-insensitive (an email.message.Message)
    body: BodyReader
    fault: Fault | None = None  # a family-level fault to honour (no_link, expired_token, ...)
    _cache: dict[str, Any] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def fault_is(self, kind: str) -> bool:
        return self.fault is not None and self.fault.kind == kind

    def json(self) -> Any:
        raw = self.body.read_all(SMALL_BODY)
        try:
            return json.loads(raw or b"null")
        except ValueError as exc:
            raise BadRequest("request body is not JSON") from exc

    def form(self) -> dict[str, str]:
        """URL-encoded body fields (empty for other content types)."""
        ctype = (self.header("Content-Type") or "").split(";")[0].strip().lower()
        raw = self.body.read_all(SMALL_BODY)
        if ctype != "application/x-www-form-urlencoded":
            return {}
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))

    def params(self) -> dict[str, str]:
        """Query string merged with an URL-encoded body (APIs accept either)."""
        return {**self.query, **self.form()}

    def multipart(self) -> MultipartData:
        boundary = boundary_of(self.header("Content-Type"))
        if boundary is None:
            raise BadRequest("expected multipart/form-data with a boundary")
        return parse_multipart(self.body.read, boundary)

    def raw_file(self) -> RawFile:
        """The body as a file (PUT uploads): hashed and counted as it streams in."""
        digest = hashlib.md5()
        while chunk := self.body.read():
            digest.update(chunk)
        return RawFile(self.body.count, digest.hexdigest())

    def cookies(self) -> dict[str, str]:
        jar = SimpleCookie()
        try:
            jar.load(self.header("Cookie") or "")
        except CookieError:
            return {}
        return {k: m.value for k, m in jar.items()}

    def bearer(self) -> str | None:
        auth = self.header("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else None

    def basic_auth(self) -> tuple[str, str] | None:
        auth = self.header("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user, password


__all__ = [
    "BadRequest",
    "ClientGone",
    "RawFile",
    "Reply",
    "Request",
    "html_reply",
    "json_reply",
    "text_reply",
]
