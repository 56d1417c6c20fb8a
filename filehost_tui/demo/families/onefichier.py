"""1fichier: ask the API for an upload server, POST to it, read the links from /end.pl.

The fake is its own upload server: `get_upload_server.cgi` answers "127.0.0.1:PORT" of itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from filehost_tui.demo.exchange import Reply, Request, html_reply, json_reply, text_reply
from filehost_tui.demo.families.base import Family, Route, new_id, route
from filehost_tui.demo.recording import ReceivedFile


@dataclass
class _Slot:
    links: list[dict[str, str]] | None = None  # None until the upload completed


class OneFichier(Family):
    name = "onefichier"
    link_step = "poll"
    token_steps = ("server",)

    def __init__(self, ctx: Any) -> None:
        self._slots: dict[str, _Slot] = {}
        super().__init__(ctx)

    def routes(self) -> list[Route]:
        return [
            route("GET POST", r"/v1/upload/get_upload_server\.cgi", "server", self.upload_server),
            route("POST", r"/upload\.cgi", "upload", self.upload),
            route("GET", r"/end\.pl", "poll", self.end),
        ]

    def upload_server(self, req: Request, _m: re.Match[str]) -> Reply:
        req.body.drain()
        if not self.ctx.accepts(req.bearer(), "api_key", "access_token"):
            return self.stale_token(req)
        upload_id = new_id(10)
        with self.lock:
            self._slots[upload_id] = _Slot()
        return json_reply({"url": urlsplit(self.base).netloc, "id": upload_id})

    def stale_token(self, req: Request) -> Reply:
        return json_reply({"status": "KO", "message": "Not authenticated #247"}, 401)

    def upload(self, req: Request, _m: re.Match[str]) -> Reply:
        upload_id = req.query.get("id", "")
        data = req.multipart()
        with self.lock:
            slot = self._slots.get(upload_id)
        if slot is None or slot.links is not None:
            return text_reply("Invalid upload id", 403)
        parts = [p for p in data.files if p.field == "file[]"]
        if not parts:
            return text_reply("No file in field file[]", 400)
        links = []
        for part in parts:
            self.ctx.recorder.add_file(
                ReceivedFile(part.filename, part.size, part.md5, dict(data.fields), part.field)
            )
            url = self.publish(f"/?{new_id(20).lower()}", part.filename)
            links.append({"download": url, "filename": part.filename, "size": str(part.size)})
        with self.lock:
            slot.links = links
        location = f"{self.base}/end.pl?xid={upload_id}"
        return html_reply(f'<a href="{location}">end</a>', 302, (("Location", location),))

    def end(self, req: Request, _m: re.Match[str]) -> Reply:
        with self.lock:
            slot = self._slots.get(req.query.get("xid", ""))
            links = list(slot.links) if slot and slot.links is not None else None
        if links is None:
            return text_reply("Upload not found", 404)
        if req.fault_is("no_link"):
            links = []
        if req.header("JSON") == "1":
            return json_reply({"incoming": 0, "links": links})
        rows = "".join(
            f'<tr><td><a href="{x["download"]}">{x["download"]}</a></td></tr>' for x in links
        )
        return html_reply(f"<html><body><table>{rows}</table></body></html>")
