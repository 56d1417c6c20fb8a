"""pixeldrain: a raw PUT of the file body, HTTP basic auth with the API key as the password."""

from __future__ import annotations

import re
from urllib.parse import unquote

from filehost_tui.demo.exchange import Reply, Request, json_reply
from filehost_tui.demo.families.base import Family, Route, new_id, route
from filehost_tui.demo.recording import ReceivedFile


class Pixeldrain(Family):
    name = "pixeldrain"

    def routes(self) -> list[Route]:
        return [route("PUT", r"/api/file/([^/]+)", "upload", self.upload)]

    def stale_token(self, req: Request) -> Reply:
        return json_reply({"success": False, "value": "unauthorized"}, 401)

    def too_large(self) -> Reply:
        return json_reply({"success": False, "value": "file_too_large"}, 413)

    def upload(self, req: Request, m: re.Match[str]) -> Reply:
        auth = req.basic_auth()
        if self.ctx.credentials is not None and not (
            auth is not None and self.ctx.accepts(auth[1], "api_key")
        ):
            req.body.drain()
            return self.stale_token(req)
        name = unquote(m.group(1))
        raw = req.raw_file()
        self.ctx.recorder.add_file(ReceivedFile(name, raw.size, raw.md5, {}, ""))
        if req.fault_is("no_link"):
            return json_reply({"success": True}, 201)
        file_id = new_id(8)
        self.publish(f"/u/{file_id}", name)
        return json_reply({"id": file_id}, 201)
