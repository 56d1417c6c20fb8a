"""The shape every fake family shares: routes, credentials, ids, published file pages.

A family is the server side of one protocol in /work/notes/protocols.md. It owns its state (tokens,
session ids, pending uploads) behind one lock; the HTTP plumbing and generic faults live in
`fake_server`, so a family module reads like the protocol description.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any, ClassVar

from filehost_tui.demo.exchange import Reply, Request, html_reply, text_reply
from filehost_tui.demo.recording import Recorder

Handler = Callable[[Request, re.Match[str]], Reply]


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    step: str
    handler: Handler


def route(methods: str, pattern: str, step: str, handler: Handler) -> Route:
    return Route(frozenset(methods.split()), re.compile(pattern), step, handler)


@dataclass
class HostContext:
    """What a family needs from its server. `base_url` is filled in once the port is bound;
    `options` pick one host's variant of the family's protocol (see `Family.defaults`)."""

    credentials: Mapping[str, str] | None
    recorder: Recorder
    base_url: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    def credential(self, *names: str) -> str | None:
        if self.credentials is None:
            return None
        return next((self.credentials[n] for n in names if n in self.credentials), None)

    def accepts(self, value: str | None, *names: str) -> bool:
        """True when `value` matches the first configured credential of `names` (or none is set)."""
        expected = self.credential(*names)
        if self.credentials is None or expected is None:
            return True
        return value is not None and hmac.compare_digest(value.encode(), expected.encode())


def new_id(length: int = 12) -> str:
    """A random alphanumeric id, like the short codes real hosts hand out."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


class Family:
    """Base class. Subclasses set `name`, `link_step`, `token_steps` and return their routes.

    Hosts that run one protocol with small differences (XFileSharing sites) share a family; its
    `defaults` name every option a variant may set, so a misspelt option is refused."""

    name: ClassVar[str] = ""
    link_step: ClassVar[str] = "upload"  # the step whose reply carries the link
    token_steps: ClassVar[tuple[str, ...]] = ("upload",)  # steps that present a token or key
    defaults: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, ctx: HostContext) -> None:
        unknown = sorted(set(ctx.options) - set(self.defaults))
        if unknown:
            known = ", ".join(sorted(self.defaults)) or "none"
            raise ValueError(f"{self.name}: unknown option {unknown[0]!r}; known: {known}")
        self.ctx = ctx
        self.options = {**self.defaults, **ctx.options}
        self.lock = threading.Lock()
        self._pages: dict[str, str] = {}
        self._pages_lock = threading.Lock()
        self._routes = self.routes()
        self._page_route = route("GET", r".*", "page", self._page)

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def match(self, method: str, path: str, target: str) -> tuple[Route, re.Match[str]] | None:
        """The route for a request; `target` is the raw path with its query (for file pages)."""
        with self._pages_lock:
            page = target in self._pages
        if method == "GET" and page:
            return self._page_route, re.match(r".*", target)  # type: ignore[return-value]
        for candidate in self._routes:
            m = candidate.pattern.fullmatch(path)
            if m and method in candidate.methods:
                return candidate, m
        return None

    # Replies the server asks for when a generic fault needs the family's own words.
    def stale_token(self, req: Request) -> Reply:
        """The answer to a call made with an expired token; also forgets issued tokens."""
        return text_reply("Unauthorized: token expired", 401)

    def too_large(self) -> Reply:
        return text_reply("Request Entity Too Large", 413)

    def quota_error(self, req: Request) -> Reply:
        return text_reply("Upload quota exceeded", 403)

    # Helpers for subclasses.
    @property
    def base(self) -> str:
        return self.ctx.base_url

    def publish(self, target: str, name: str) -> str:
        """Serve a small download page at `target` (path + query) and return its absolute link."""
        with self._pages_lock:
            self._pages[target] = name
        return self.base + target

    def _page(self, _req: Request, m: re.Match[str]) -> Reply:
        with self._pages_lock:
            name = self._pages.get(m.group(0), "")
        return html_reply(
            f"<html><body><h1>{escape(name)}</h1><p>Fake {self.name} host.</p></body></html>"
        )
