"""0x0-compatible servers: multipart POST to / with `file`; plain-text URL and an X-Token header."""

from __future__ import annotations

import re

from filehost_tui.demo.exchange import Reply, Request, text_reply
from filehost_tui.demo.families.base import Family, Route, new_id, route
from filehost_tui.demo.families.catbox import file_code
from filehost_tui.demo.recording import ReceivedFile


class ZeroX0(Family):
    name = "0x0"

    def routes(self) -> list[Route]:
        return [
            route("GET", r"/", "index", self.index),
            route("POST", r"/", "upload", self.upload),
        ]

    def index(self, req: Request, _m: re.Match[str]) -> Reply:
        return text_reply(
            "THE NULL POINTER (fake)\n    curl -F'file=@yourfile.png' " + self.base + "\n"
        )

    def upload(self, req: Request, _m: re.Match[str]) -> Reply:
        data = req.multipart()
        part = data.file("file")
        if part is None:
            return text_reply("400 Bad Request\n", 400)
        self.ctx.recorder.add_file(
            ReceivedFile(part.filename, part.size, part.md5, dict(data.fields), part.field)
        )
        headers = (("X-Token", new_id(22)),)
        if req.fault_is("no_link"):
            return text_reply("", 200, headers)
        return text_reply(
            self.publish(f"/{file_code(part.filename)}", part.filename) + "\n", 200, headers
        )
