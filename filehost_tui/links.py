"""Formatting links of completed uploads for forums, chats and scripts (`links --format`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from filehost_tui.errors import UserError

FORMATS = ("plain", "bbcode", "markdown", "json")

DEFAULT_TEMPLATES = {
    "plain": "{url}",
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


def format_links(
    links: Sequence[Link], fmt: str, templates: Mapping[str, str] | None = None
) -> str:
    """One line per link, grouped by item in queue order; `templates` ([links] in config) override."""
    if fmt == "json":
        return json.dumps([asdict(link) for link in links], ensure_ascii=False, indent=2)
    template = {**DEFAULT_TEMPLATES, **(templates or {})}[fmt]
    try:
        return "\n".join(
            template.format(
                url=link.url, item=link.item, host=link.host, file_id=link.file_id or ""
            )
            for link in links
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise UserError(
            f"config [links].{fmt} template is invalid ({exc}); use {{url}} {{item}} {{host}} {{file_id}}"
        ) from None
