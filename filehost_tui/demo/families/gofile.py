"""gofile: one multipart POST to /uploadfile, guest or with a Bearer account token."""

from __future__ import annotations

import re

from filehost_tui.demo.exchange import Reply, Request, json_reply
from filehost_tui.demo.families.base import Family, Route, new_id, route
from filehost_tui.demo.recording import ReceivedFile


class Gofile(Family):
    name = "gofile"

    def routes(self) -> list[Route]:
        return [route("POST", r"/uploadfile", "upload", self.upload)]

    def stale_token(self, req: Request) -> Reply:
        return json_reply({"status": "error-auth", "data": {}}, 401)

    def upload(self, req: Request, _m: re.Match[str]) -> Reply:
        token = req.bearer()
        if token is not None and not self.ctx.accepts(token, "token", "api_key"):
            req.body.drain()
            return self.stale_token(req)
        data = req.multipart()
        part = data.file("file")
        if part is None:
            return json_reply({"status": "error-noFile", "data": {}}, 400)
        self.ctx.recorder.add_file(
            ReceivedFile(part.filename, part.size, part.md5, dict(data.fields), part.field)
        )
        if req.fault_is("no_link"):
            return json_reply({"status": "ok", "data": {"md5": part.md5}})
        code = new_id(6)
        page = self.publish(f"/d/{code}", part.filename)
        info = {"downloadPage": page, "id": new_id(36), "code": code, "md5": part.md5}
        info.update(name=part.filename, size=part.size)
        return json_reply({"status": "ok", "data": info})
