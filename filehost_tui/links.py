"""Formatting links of completed uploads for forums, chats and scripts (`links --format`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass

from filehost_tui.errors import UserError

FORMATS = ("plain", "urls", "bbcode", "markdown", "json")

DEFAULT_TEMPLATES = {
    "plain": "{item} ({host}): {url}",
    "urls": "{url}",  # bare, one a line, for scripts: not a [links] template, so it stays bare
    "bbcode": "[url={url}]{item} ({host})[/url]",
    "markdown": "[{item} ({host})]({url})",
}


@dataclass(frozen=True)
class Link:
    item_id: int
    item: str
    host: str
    url: str
    file_id: str | None
    volume: int = 0
    """Which part of a split item (1-based), and of how many; 0 and 0 for an item sent whole."""
    volumes: int = 0


def format_links(
    links: Iterable[Link], fmt: str, templates: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Each link's text with its line end, grouped by item in queue order, produced as `links`
    is read (a million links never sit in memory); `templates` ([links] in config) override. The
    json form is one indented array, as `json.dumps(..., indent=2)` writes it."""
    if fmt == "json":
        yield from _json_array(links)
        return
    template = {**DEFAULT_TEMPLATES, **(templates or {})}[fmt]
    _render(template, Link(0, "item", "host", "https://example.com/f", None), fmt)
    for link in links:
        yield _render(template, link, fmt) + "\n"


def _render(template: str, link: Link, fmt: str) -> str:
    try:
        return template.format(
            url=link.url, item=link.item, host=link.host, file_id=link.file_id or ""
        )
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise UserError(
            f"config [links].{fmt} template is invalid ({exc}); use {{url}} {{item}} {{host}} {{file_id}}"
        ) from None


def _json_array(links: Iterable[Link]) -> Iterator[str]:
    first = True
    for link in links:
        body = json.dumps(asdict(link), ensure_ascii=False, indent=2).replace("\n", "\n  ")
        yield ("[\n  " if first else ",\n  ") + body
        first = False
    yield "[]\n" if first else "\n]\n"
