"""Nitroflare (simplified): ask for an upload server (plain text URL), POST the file with the
account's user hash, read the link from `files[0].url`; `/api/v2/getKeyInfo` describes the account.

Refusals answer HTTP 200 with an `error` inside the reply, as the upload form's JSON does. Options:
the premium key's state, storage left, and an account file size limit.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from filehost_tui.demo.exchange import Reply, Request, json_reply, text_reply
from filehost_tui.demo.families.base import Family, Route, new_id, route
from filehost_tui.demo.recording import ReceivedFile

MIB = 1024**2
GIB = 1024**3


def _file_error(name: str, error: str) -> Reply:
    return json_reply({"files": [{"name": name, "error": error}]})


class Nitroflare(Family):
    name = "nitroflare"
    token_steps = ("upload", "account")
    defaults = {"premium": True, "storage_left": 2 * 2**40, "max_file_size": None}

    def routes(self) -> list[Route]:
        return [
            route("GET", r"/plugins/fileupload/getServer", "server", self.get_server),
            route("POST", r"/plugins/fileupload/index\.php", "upload", self.upload),
            route("GET POST", r"/api/v2/getKeyInfo", "account", self.key_info),
        ]

    def get_server(self, req: Request, _m: re.Match[str]) -> Reply:
        return text_reply(f"{self.base}/plugins/fileupload/index.php")

    def key_info(self, req: Request, _m: re.Match[str]) -> Reply:
        params = req.params()
        if not (
            self.ctx.accepts(params.get("user"), "email")
            and self.ctx.accepts(params.get("premiumKey"), "premium_key")
        ):
            return self.stale_token(req)
        result = {
            "status": "active" if self.options["premium"] else "expired",
            "expiryDate": "2030-01-01 00:00:00",
            "storageUsed": 1024,
            "storageLeft": self.options["storage_left"],
            "trafficUsed": 0,
            "trafficMax": 100 * GIB,
            "trafficLeft": 100 * GIB,
        }
        return json_reply({"type": "success", "result": result})

    def stale_token(self, req: Request) -> Reply:
        if req.path.startswith("/api/"):
            return json_reply({"type": "error", "message": "Wrong login", "code": 1})
        return _file_error("", "Invalid user hash")

    def upload(self, req: Request, _m: re.Match[str]) -> Reply:
        data = req.multipart()
        part = data.file("files")
        if part is None:
            return _file_error("", "No file uploaded")
        if not self.ctx.accepts(data.fields.get("user"), "user_hash"):
            return _file_error(part.filename, "Invalid user hash")
        limit = self.options["max_file_size"]
        if limit is not None and part.size > limit:
            return _file_error(
                part.filename, f"File is too big. Max file size for your account: {limit // MIB} MB"
            )
        self.ctx.recorder.add_file(
            ReceivedFile(part.filename, part.size, part.md5, dict(data.fields), part.field)
        )
        entry: dict[str, Any] = {"name": part.filename, "size": part.size}
        if not req.fault_is("no_link"):
            code = new_id(15).upper()
            entry["url"] = self.publish(f"/view/{code}/{quote(part.filename)}", part.filename)
        return json_reply({"files": [entry]})
