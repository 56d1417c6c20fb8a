"""Keep2Share API v2 (also FileBoom, TezFiles): getUploadFormData, then a signed multipart form.

Errors carry the HTTP status of their JSON `code`, as the real API does.
"""

from __future__ import annotations

import re
from typing import Any

from filehost_tui.demo.exchange import BadRequest, Reply, Request, json_reply
from filehost_tui.demo.families.base import Family, Route, new_id, route
from filehost_tui.demo.recording import ReceivedFile

BAD_TOKEN, FILE_TOO_BIG, UPLOAD_QUOTA = 10, 21, 75


def _error(message: str, error_code: int, code: int = 403) -> Reply:
    body = {"status": "error", "code": code, "message": message, "errorCode": error_code}
    return json_reply(body, code)


class K2s(Family):
    name = "k2s"
    token_steps = ("server", "account")

    def __init__(self, ctx: Any) -> None:
        self._forms: dict[str, dict[str, str]] = {}
        super().__init__(ctx)

    def routes(self) -> list[Route]:
        return [
            route("POST", r"/api/v2/getUploadFormData", "server", self.form_data),
            route("POST", r"/api/v2/AccountInfo", "account", self.account_info),
            route("POST", r"/api/v2/(\w+)", "api", self.unknown_method),
            route("POST", r"/upload/(\w+)", "upload", self.upload),
        ]

    def _body(self, req: Request) -> dict[str, Any]:
        body = req.json()
        if not isinstance(body, dict):
            raise BadRequest("expected a JSON object")
        return body

    def _token_ok(self, req: Request) -> bool:
        token = self._body(req).get("access_token")
        return isinstance(token, str) and self.ctx.accepts(token, "access_token", "api_key")

    def account_info(self, req: Request, _m: re.Match[str]) -> Reply:
        if not self._token_ok(req):
            return _error("Invalid access token", BAD_TOKEN)
        info = {"available_traffic": 20 * 2**30, "account_expires": 1893456000}
        return json_reply({"status": "success", "code": 200, **info})

    def form_data(self, req: Request, _m: re.Match[str]) -> Reply:
        if not self._token_ok(req):
            return _error("Invalid access token", BAD_TOKEN)
        form_id = new_id(16)
        form = {"ajax": "true", "params": new_id(40), "signature": new_id(32)}
        with self.lock:
            self._forms[form_id] = form
        return json_reply(
            {
                "status": "success",
                "code": 200,
                "form_action": f"{self.base}/upload/{form_id}",
                "file_field": "file",
                "form_data": form,
            }
        )

    def unknown_method(self, req: Request, m: re.Match[str]) -> Reply:
        req.body.drain()
        return _error(f"Method {m.group(1)} is not supported by the fake", 1, 404)

    def stale_token(self, req: Request) -> Reply:
        return _error("Invalid access token", BAD_TOKEN)

    def quota_error(self, req: Request) -> Reply:
        return _error("Upload limit reached", UPLOAD_QUOTA, 406)

    def too_large(self) -> Reply:
        return _error("File size is too big", FILE_TOO_BIG, 413)

    def upload(self, req: Request, m: re.Match[str]) -> Reply:
        data = req.multipart()
        with self.lock:
            form = self._forms.get(m.group(1))
        if form is None or any(data.fields.get(k) != v for k, v in form.items()):
            return _error("Invalid upload form: form_data fields must be sent back", 2, 400)
        part = data.file("file")
        if part is None:
            return _error("No file in field 'file'", 3, 400)
        self.ctx.recorder.add_file(
            ReceivedFile(part.filename, part.size, part.md5, dict(data.fields), part.field)
        )
        if req.fault_is("no_link"):
            return json_reply({"status": "success", "success": True})
        file_id = new_id(13)
        link = self.publish(f"/file/{file_id}", part.filename)
        return json_reply(
            {"status": "success", "success": True, "user_file_id": file_id, "link": link}
        )
