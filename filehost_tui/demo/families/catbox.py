"""catbox: multipart POST to /user/api.php with reqtype=fileupload; the reply is the bare URL."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from filehost_tui.demo.exchange import Reply, Request, text_reply
from filehost_tui.demo.families.base import Family, Route, new_id, route
from filehost_tui.demo.recording import ReceivedFile


def file_code(filename: str) -> str:
    """A short random name keeping the file's extension, like catbox and 0x0 do."""
    suffix = PurePosixPath(filename).suffix
    return new_id(6).lower() + (suffix if re.fullmatch(r"\.\w{1,10}", suffix) else "")


class Catbox(Family):
    name = "catbox"

    def routes(self) -> list[Route]:
        return [route("POST", r"/user/api\.php", "upload", self.upload)]

    def stale_token(self, req: Request) -> Reply:
        return text_reply("Invalid userhash.", 412)

    def upload(self, req: Request, _m: re.Match[str]) -> Reply:
        data = req.multipart()
        if data.fields.get("reqtype") != "fileupload":
            return text_reply("No request type given.", 412)
        userhash = data.fields.get("userhash") or None
        if userhash is not None and not self.ctx.accepts(userhash, "userhash"):
            return self.stale_token(req)
        part = data.file("fileToUpload")
        if part is None:
            return text_reply("No files given.", 412)
        self.ctx.recorder.add_file(
            ReceivedFile(part.filename, part.size, part.md5, dict(data.fields), part.field)
        )
        if req.fault_is("no_link"):
            return text_reply("")
        return text_reply(self.publish(f"/files/{file_code(part.filename)}", part.filename))
