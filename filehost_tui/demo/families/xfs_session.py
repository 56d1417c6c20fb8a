"""XFileSharing session-cookie hosts (Filespace, Filedot, FileJoker; simplified): login form, upload
form, cgi.

Everything is HTML, as on the real sites: the client scrapes the form's action and sess_id, and
reads the file code from `<textarea name="fn">` in the upload result page. Options pick a site's
variant: a digit captcha on the login page (`/login.html`, digits drawn as offset spans), the name
of the login field, whether the upload form's sess_id is the session itself (checked by the upload
server, so a session that expires during an upload is refused there), an account file size limit,
and whether `?op=my_account` shows a premium account.
"""

from __future__ import annotations

import random
import re
from html import escape
from typing import Any

from filehost_tui.demo.exchange import Reply, Request, html_reply
from filehost_tui.demo.families.base import Family, Route, new_id, route
from filehost_tui.demo.recording import ReceivedFile

COOKIE = "xfss"
MIB = 1024 * 1024
CAPTCHA_DIGITS = 4

LOGIN_PAGE = """<html><body>{message}
<form method="POST" action="/"><input type="hidden" name="op" value="login">
<input type="hidden" name="redirect" value="">{captcha}
<input name="{field}"><input type="password" name="password"></form>
<a href="/?op=login">Login</a></body></html>"""

CAPTCHA = """
<input type="hidden" name="rand" value="{rand}">
<div style="width:80px;height:26px;font:bold 13px Arial;background:#ccc;text-align:left;">
{spans}
</div><input type="text" name="code" maxlength="4">"""

EXPIRED_PAGE = """<html><body><div class="err">Your session expired, please log in again.</div>
</body></html>"""

UPLOAD_FORM = """<html><body>
<form enctype="multipart/form-data" method="POST" action="{action}" name="file">
<input type="hidden" name="sess_id" value="{sess_id}">
<input type="hidden" name="upload_type" value="file">
<input type="file" name="file_0"></form></body></html>"""

RESULT_PAGE = """<html><body><form name="F1" action="/" method="POST">
<textarea name="op">upload_result</textarea>{fn}
<textarea name="st">{status}</textarea></form></body></html>"""

ACCOUNT_PAGE = """<html><body><table>
<tr><td>Username:</td><td>user</td></tr>
<tr><td>{kind}</td><td>{expires}</td></tr>
<tr><td>Used space:</td><td>1.2 GB of 2000 GB</td></tr>
</table><a href="/?op=logout">Logout</a></body></html>"""


def captcha_spans(code: str, rng: random.Random) -> str:
    """The code as XFS draws it: one absolutely placed span per digit, in shuffled order."""
    spans = [
        f"<span style='position:absolute;padding-left:{5 + 17 * i + rng.randint(0, 6)}px;"
        f"padding-top:{rng.randint(2, 7)}px;'>&#{48 + int(digit)};</span>"
        for i, digit in enumerate(code)
    ]
    rng.shuffle(spans)
    return "\n".join(spans)


class XfsSession(Family):
    name = "xfs_session"
    token_steps = ("server",)
    defaults = {
        "captcha": False,
        "login_field": "login",
        "session_upload": False,
        "max_file_size": None,
        "premium": True,
    }

    def __init__(self, ctx: Any) -> None:
        self._cookies: set[str] = set()
        self._sessions: set[str] = set()
        self._captchas: dict[str, str] = {}
        self._rng = random.Random()
        super().__init__(ctx)

    def routes(self) -> list[Route]:
        return [
            route("GET", r"/login\.html", "login_page", self.login_page),
            route("POST", r"/", "login", self.login),
            route("GET", r"/", "server", self.index),
            route("POST", r"/cgi-bin/upload\.cgi", "upload", self.upload),
        ]

    def _login_page(self, message: str = "") -> Reply:
        captcha = ""
        if self.options["captcha"]:
            rand = new_id(16)
            code = "".join(str(self._rng.randint(0, 9)) for _ in range(CAPTCHA_DIGITS))
            with self.lock:
                self._captchas[rand] = code
            captcha = CAPTCHA.format(rand=rand, spans=captcha_spans(code, self._rng))
        field = self.options["login_field"]
        return html_reply(LOGIN_PAGE.format(message=message, captcha=captcha, field=field))

    def login_page(self, req: Request, _m: re.Match[str]) -> Reply:
        return self._login_page()

    def login(self, req: Request, _m: re.Match[str]) -> Reply:
        form = req.form()
        if form.get("op") != "login":
            return self._login_page()
        self.ctx.recorder.add_login()
        if self.options["captcha"]:
            with self.lock:
                expected = self._captchas.pop(form.get("rand", ""), None)
            if expected is None or form.get("code") != expected:
                return self._login_page("<b class='err'>Wrong captcha code</b>")
        if not (
            self.ctx.accepts(form.get(self.options["login_field"]), "username", "login")
            and self.ctx.accepts(form.get("password"), "password")
        ):
            return self._login_page("<b class='err'>Incorrect Login or Password</b>")
        session = new_id(24)
        with self.lock:
            self._cookies.add(session)
        headers = (
            ("Location", f"{self.base}/"),
            ("Set-Cookie", f"{COOKIE}={session}; path=/; HttpOnly"),
        )
        return html_reply("<html><body>Redirecting</body></html>", 302, headers)

    def index(self, req: Request, _m: re.Match[str]) -> Reply:
        cookie = req.cookies().get(COOKIE, "")
        with self.lock:
            logged_in = cookie in self._cookies
        op = req.query.get("op")
        if not logged_in or op not in ("upload_form", "my_account"):
            return self._login_page()
        if op == "my_account":
            premium = self.options["premium"]
            kind = "Premium account expire:" if premium else "Account type:"
            return html_reply(
                ACCOUNT_PAGE.format(kind=kind, expires="2030-01-01" if premium else "Free")
            )
        sess_id = cookie if self.options["session_upload"] else new_id(24)
        with self.lock:
            self._sessions.add(sess_id)
        action = escape(f"{self.base}/cgi-bin/upload.cgi?upload_type=file")
        return html_reply(UPLOAD_FORM.format(action=action, sess_id=sess_id))

    def stale_token(self, req: Request) -> Reply:
        """The login form again, or (fault param `page="expired"`) the site's expiry notice."""
        with self.lock:
            self._cookies.clear()
        if req.fault is not None and req.fault.param("page") == "expired":
            return html_reply(EXPIRED_PAGE)
        return self._login_page()

    def _sess_id_ok(self, sess_id: str) -> bool:
        with self.lock:
            if self.options["session_upload"]:
                return sess_id in self._cookies
            fresh = sess_id in self._sessions
            self._sessions.discard(sess_id)
            return fresh

    def upload(self, req: Request, _m: re.Match[str]) -> Reply:
        data = req.multipart()
        fresh = self._sess_id_ok(data.fields.get("sess_id", ""))
        part = data.file("file_0")
        if not fresh or part is None:
            status = "Session expired" if not fresh else "No file"
            return html_reply(RESULT_PAGE.format(fn="", status=status))
        limit = self.options["max_file_size"]
        if limit is not None and part.size > limit:
            status = f"File is too big, max filesize for your account is {limit // MIB} Mb"
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
