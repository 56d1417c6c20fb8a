"""Rapidgator API v2 (simplified): token login, upload init with MD5 dedup, POST, poll upload_info.

Errors answer HTTP 200 with the error in the JSON `status`/`details`, as the real API does, so a
spec must look at the body, not only the HTTP status. Option: `max_file_size`, the account's
limit as `user/info` reports it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from filehost_tui.demo.exchange import Reply, Request, json_reply
from filehost_tui.demo.families.base import Family, Route, new_id, route
from filehost_tui.demo.recording import ReceivedFile

WAITING, PROCESSING, DONE, FAILED = 0, 1, 2, 3


@dataclass
class _Upload:
    name: str
    md5: str
    size: int
    state: int = WAITING
    file: dict[str, str] | None = None


def _error(details: str, status: int = 401) -> Reply:
    return json_reply({"response": None, "status": status, "details": details})


def _ok(response: dict[str, Any]) -> Reply:
    return json_reply({"response": response, "status": 200, "details": None})


class Rapidgator(Family):
    name = "rapidgator"
    link_step = "poll"
    token_steps = ("server", "poll", "account")
    defaults = {"max_file_size": 50 * 2**30}  # what user/info reports the account may upload

    def __init__(self, ctx: Any) -> None:
        self._tokens: set[str] = set()
        self._uploads: dict[str, _Upload] = {}
        super().__init__(ctx)

    def routes(self) -> list[Route]:
        return [
            route("GET POST", r"/api/v2/user/login", "login", self.login),
            route("GET POST", r"/api/v2/file/upload", "server", self.init_upload),
            route("POST", r"/upload/(\w+)", "upload", self.upload),
            route("GET POST", r"/api/v2/file/upload_info", "poll", self.upload_info),
            route("GET POST", r"/api/v2/user/info", "account", self.user_info),
        ]

    def login(self, req: Request, _m: re.Match[str]) -> Reply:
        params = req.params()
        self.ctx.recorder.add_login()
        if not (
            self.ctx.accepts(params.get("login"), "username", "login")
            and self.ctx.accepts(params.get("password"), "password")
        ):
            return _error("Error: Wrong e-mail or password.")
        token = new_id(32)
        with self.lock:
            self._tokens.add(token)
        return _ok({"token": token, "user": {"email": params.get("login", "")}})

    def _token_ok(self, params: dict[str, str]) -> bool:
        with self.lock:
            return params.get("token") in self._tokens

    def user_info(self, req: Request, _m: re.Match[str]) -> Reply:
        if not self._token_ok(req.params()):
            return _error("Error: Invalid token")
        storage = {"total": 4 * 2**40, "left": 4 * 2**40}
        upload = {"max_file_size": self.options["max_file_size"]}
        user = {"is_premium": True, "storage": storage, "upload": upload}
        return _ok({"user": user})

    def stale_token(self, req: Request) -> Reply:
        with self.lock:
            self._tokens.clear()
        return _error("Error: Invalid token")

    def init_upload(self, req: Request, _m: re.Match[str]) -> Reply:
        params = req.params()
        if not self._token_ok(params):
            return _error("Error: Invalid token")
        name, md5 = params.get("name", ""), params.get("hash", "").lower()
        try:
            size = int(params.get("size", ""))
        except ValueError:
            return _error("Error: size is required", 400)
        if not name or not re.fullmatch(r"[0-9a-f]{32}", md5):
            return _error("Error: name and hash (MD5 hex) are required", 400)
        upload_id = new_id(16)
        known = self.ctx.recorder.known_md5(md5)
        entry = _Upload(name, md5, size)
        if known is not None and known.size == size:
            entry.state, entry.file = DONE, self._file(name)
        with self.lock:
            self._uploads[upload_id] = entry
        url = None if entry.state == DONE else f"{self.base}/upload/{upload_id}"
        return _ok(
            {
                "upload": {
                    "upload_id": upload_id,
                    "url": url,
                    "file": entry.file,
                    "state": entry.state,
                }
            }
        )

    def _file(self, name: str) -> dict[str, str]:
        file_id = new_id(16)
        url = self.publish(f"/file/{file_id}/{quote(name)}", name)
        return {"file_id": file_id, "url": url, "name": name}

    def upload(self, req: Request, m: re.Match[str]) -> Reply:
        upload_id = m.group(1)
        data = req.multipart()
        with self.lock:
            entry = self._uploads.get(upload_id)
            if entry is None or entry.state != WAITING:
                return _error("Error: Upload not found", 404)
            entry.state = PROCESSING
        part = data.file("file")
        if part is None:
            with self.lock:
                entry.state = FAILED
            return _error("Error: no file in field 'file'", 400)
        if part.md5 != entry.md5 or part.size != entry.size:
            with self.lock:
                entry.state = FAILED  # the host checks the declared hash and size
        else:
            self.ctx.recorder.add_file(
                ReceivedFile(entry.name, part.size, part.md5, dict(data.fields), part.field)
            )
            file = self._file(entry.name)
            with self.lock:
                entry.state, entry.file = DONE, file
        return _ok({"upload": {"upload_id": upload_id, "state": PROCESSING}})

    def upload_info(self, req: Request, _m: re.Match[str]) -> Reply:
        params = req.params()
        if not self._token_ok(params):
            return _error("Error: Invalid token")
        with self.lock:
            entry = self._uploads.get(params.get("upload_id", ""))
            state, file = (entry.state, entry.file) if entry else (None, None)
        if state is None:
            return _error("Error: Upload not found", 404)
        if req.fault_is("processing"):
            state, file = PROCESSING, None
        elif req.fault_is("no_link"):
            file = None
        upload: dict[str, Any] = {
            "upload_id": params.get("upload_id"),
            "state": state,
            "file": file,
        }
        return _ok({"upload": upload})
