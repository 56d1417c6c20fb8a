"""XFileSharing session-cookie hosts (Filespace-style, simplified): login form, upload form, cgi.

Everything is HTML, as on the real sites: the client scrapes the form's action and sess_id, and
reads the file code from `<textarea name="fn">` in the upload result page.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from filehost_tui.demo.exchange import Reply, Request, html_reply
from filehost_tui.demo.families.base import Family, Route, new_id, route
from filehost_tui.demo.recording import ReceivedFile

COOKIE = "xfss"

LOGIN_PAGE = """<html><body>{message}
<form method="POST" action="/"><input type="hidden" name="op" value="login">
<input type="hidden" name="redirect" value="">
<input name="login"><input type="password" name="password"></form>
<a href="/?op=login">Login</a></body></html>"""

UPLOAD_FORM = """<html><body>
<form enctype="multipart/form-data" method="POST" action="{action}" name="file">
<input type="hidden" name="sess_id" value="{sess_id}">
<input type="hidden" name="upload_type" value="file">
<input type="file" name="file_0"></form></body></html>"""

RESULT_PAGE = """<html><body><form name="F1" action="/" method="POST">
<textarea name="op">upload_result</textarea>{fn}
<textarea name="st">{status}</textarea></form></body></html>"""


def _login_page(message: str = "") -> Reply:
    return html_reply(LOGIN_PAGE.format(message=message))


class XfsSession(Family):
    name = "xfs_session"
    token_steps = ("server",)

    def __init__(self, ctx: Any) -> None:
        self._cookies: set[str] = set()
        self._sessions: set[str] = set()
        super().__init__(ctx)

    def routes(self) -> list[Route]:
        return [
            route("POST", r"/", "login", self.login),
            route("GET", r"/", "server", self.index),
            route("POST", r"/cgi-bin/upload\.cgi", "upload", self.upload),
        ]

    def login(self, req: Request, _m: re.Match[str]) -> Reply:
        form = req.form()
        if form.get("op") != "login":
            return _login_page()
        self.ctx.recorder.add_login()
        if not (
            self.ctx.accepts(form.get("login"), "username", "login")
            and self.ctx.accepts(form.get("password"), "password")
        ):
            return _login_page("<b class='err'>Incorrect Login or Password</b>")
        session = new_id(24)
        with self.lock:
            self._cookies.add(session)
        headers = (
            ("Location", f"{self.base}/"),
            ("Set-Cookie", f"{COOKIE}={session}; path=/; HttpOnly"),
        )
        return html_reply("<html><body>Redirecting</body></html>", 302, headers)

    def index(self, req: Request, _m: re.Match[str]) -> Reply:
        with self.lock:
            logged_in = req.cookies().get(COOKIE) in self._cookies
        if req.query.get("op") != "upload_form" or not logged_in:
            return _login_page()
        sess_id = new_id(24)
        with self.lock:
            self._sessions.add(sess_id)
        action = escape(f"{self.base}/cgi-bin/upload.cgi?upload_type=file")
        return html_reply(UPLOAD_FORM.format(action=action, sess_id=sess_id))

    def stale_token(self, req: Request) -> Reply:
        with self.lock:
            self._cookies.clear()
        return _login_page()

    def upload(self, req: Request, _m: re.Match[str]) -> Reply:
        data = req.multipart()
        sess_id = data.fields.get("sess_id", "")
        with self.lock:
            fresh = sess_id in self._sessions
            self._sessions.discard(sess_id)
        part = data.file("file_0")
        if not fresh or part is None:
            status = "Session expired" if not fresh else "No file"
            return html_reply(RESULT_PAGE.format(fn="", status=status))
        self.ctx.recorder.add_file(
            ReceivedFile(part.filename, part.size, part.md5, dict(data.fields), part.field)
        )
        if req.fault_is("no_link"):
            return html_reply(RESULT_PAGE.format(fn="", status="OK"))
        code = new_id(12).lower()
        self.publish(f"/{code}", part.filename)
        fn = f'\n<textarea name="fn">{code}</textarea>'
        return html_reply(RESULT_PAGE.format(fn=fn, status="OK"))
