"""XFileSharing API-key hosts (Katfile, DDownload, Send.cm): ask for an upload server and a
single-use sess_id, POST the file, read `file_code`; `/api/account/info` tells about the account.

Like the real API, errors answer HTTP 200 with `status` and `msg` in the JSON body. Options: the
account's premium state, storage left, and an account file size limit the upload server enforces.
"""

from __future__ import annotations

import re
from typing import Any

from filehost_tui.demo.exchange import Reply, Request, json_reply
from filehost_tui.demo.families.base import Family, Route, new_id, route
from filehost_tui.demo.recording import ReceivedFile

MIB = 1024 * 1024


def _wrong_auth() -> Reply:
    return json_reply({"msg": "Wrong auth", "status": 403})


def _result(code: str, status: str) -> Reply:
    return json_reply([{"file_code": code, "file_status": status}])


class XfsApi(Family):
    name = "xfs_api"
    token_steps = ("server", "account")
    defaults = {"premium": True, "storage_left": 2**40, "max_file_size": None}

    def __init__(self, ctx: Any) -> None:
        self._sessions: set[str] = set()
        super().__init__(ctx)

    def routes(self) -> list[Route]:
        return [
            route("GET POST", r"/api/upload/server", "server", self.upload_server),
            route("GET POST", r"/api/account/info", "account", self.account_info),
            route("POST", r"/cgi-bin/upload\.cgi", "upload", self.upload),
        ]

    def _key_ok(self, req: Request) -> bool:
        return self.ctx.accepts(req.params().get("key"), "api_key", "key")

    def upload_server(self, req: Request, _m: re.Match[str]) -> Reply:
        if not self._key_ok(req):
            return _wrong_auth()
        sess_id = new_id(24)
        with self.lock:
            self._sessions.add(sess_id)
        url = f"{self.base}/cgi-bin/upload.cgi"
        return json_reply({"msg": "OK", "status": 200, "sess_id": sess_id, "result": url})

    def account_info(self, req: Request, _m: re.Match[str]) -> Reply:
        if not self._key_ok(req):
            return _wrong_auth()
        result = {
            "email": "user@example.invalid",
            "balance": "0.00000",
            "storage_used": "24186265",
            "storage_left": self.options["storage_left"],
            "premium_expire": "2030-01-01 00:00:00" if self.options["premium"] else None,
        }
        return json_reply({"msg": "OK", "status": 200, "result": result})

    def stale_token(self, req: Request) -> Reply:
        return _wrong_auth()

    def upload(self, req: Request, _m: re.Match[str]) -> Reply:
        data = req.multipart()
        with self.lock:
            fresh = data.fields.get("sess_id") in self._sessions
            self._sessions.discard(data.fields.get("sess_id", ""))
        if not fresh:
            return _result("undef", "Session expired")
        part = data.file("file_0")
        if part is None:
            return _result("undef", "No file")
        limit = self.options["max_file_size"]
        if limit is not None and part.size > limit:
            return _result(
                "undef", f"File is too big, max filesize for your account is {limit // MIB} Mb"
            )
        self.ctx.recorder.add_file(
            ReceivedFile(part.filename, part.size, part.md5, dict(data.fields), part.field)
        )
        if req.fault_is("no_link"):
            return json_reply([{"file_status": "OK"}])
        code = new_id(12).lower()
        self.publish(f"/{code}", part.filename)
        return _result(code, "OK")
