"""The positioned-digits captcha is read from the page as drawn, or refused: never guessed.

Fixtures are small login-form fragments written for these tests, one per way a site may draw the
digits (quotes, entity styles, extra style properties, markup inside the span)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from filehost_tui.demo.families.xfs_session import captcha_spans
from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.hosts.captcha import CaptchaUnreadable, positioned_digits
from filehost_tui.hosts.flow import extract_all
from filehost_tui.hosts.spec import Captcha, Extract, Step
from filehost_tui.hosts.spec_loader import load_specs
from filehost_tui.hosts.wire import Response

# The classic XFileSharing layout: single quotes, decimal entities, shuffled spans.
XFS_CLASSIC = """<div style="width:80px;height:26px;font:bold 13px Arial;background:#ccc;">
<span style='position:absolute;padding-left:48px;padding-top:5px;'>&#55;</span>
<span style='position:absolute;padding-left:25px;padding-top:3px;'>&#52;</span>
<span style='position:absolute;padding-left:6px;padding-top:6px;'>&#49;</span>
<span style='position:absolute;padding-left:63px;padding-top:4px;'>&#56;</span>
</div>"""

# Double quotes, padding-left after other properties, spaces, plain digits, a class attribute.
PLAIN_DIGITS = """<td><span class="d" style="padding-top: 2px; padding-left: 30px">0</span>
<span class="d" style="color:#333;padding-left : 12px ;">9</span>
<span class="d" style="padding-left:44px">0</span><span style="padding-left:57px">3</span></td>"""

# Hex entities, upper-case markup, markup inside a span, fractional offsets.
HEX_AND_MARKUP = """<DIV><SPAN STYLE="PADDING-LEFT:20.5PX"><b>&#x35;</b></SPAN>
<SPAN STYLE="PADDING-LEFT:3PX">&#x32;</SPAN><SPAN STYLE="PADDING-LEFT:41.25PX"> 6 </SPAN>
<SPAN STYLE="PADDING-LEFT:60PX">&#x30;</SPAN></DIV>"""

# Other offset spans on the page, outside the captcha: `within` leaves them out.
WITH_LAYOUT_SPANS = (
    """<span style="padding-left:2px">Menu</span>
<input type="hidden" name="rand" value="r4nd">"""
    + XFS_CLASSIC
    + """
<input type="text" name="code"><span style="padding-left:10px">1</span>"""
)
WITHIN = 'name="rand"(.*?)name="code"'


@pytest.mark.parametrize(
    ("page", "code"),
    [(XFS_CLASSIC, "1478"), (PLAIN_DIGITS, "9003"), (HEX_AND_MARKUP, "2560")],
    ids=["xfs-classic", "plain-digits", "hex-and-markup"],
)
def test_digits_are_read_in_the_order_of_their_offsets(page: str, code: str) -> None:
    assert positioned_digits(page, 4) == code


def test_within_ignores_offset_spans_elsewhere_on_the_page() -> None:
    assert positioned_digits(WITH_LAYOUT_SPANS, 4, WITHIN) == "1478"
    with pytest.raises(CaptchaUnreadable, match="holds 'Menu'"):
        positioned_digits(WITH_LAYOUT_SPANS, 4)


def test_the_fake_hosts_drawing_reads_back_for_many_codes() -> None:
    rng = random.Random(3)
    for _ in range(200):
        code = "".join(str(rng.randint(0, 9)) for _ in range(4))
        assert positioned_digits(captcha_spans(code, rng), 4) == code


MISSING_DIGIT = XFS_CLASSIC.replace(
    "<span style='position:absolute;padding-left:25px;padding-top:3px;'>&#52;</span>", ""
)
UNREADABLE = {
    "a digit missing": (MISSING_DIGIT, "shows 3 digits, expected 4"),
    "a digit too many": (
        XFS_CLASSIC.replace("</div>", "<span style='padding-left:70px'>&#50;</span></div>"),
        "shows 5 digits, expected 4",
    ),
    "two digits at one offset": (
        XFS_CLASSIC.replace("padding-left:63px", "padding-left:48px"),
        "two captcha digits at 48px",
    ),
    "an image instead of a digit": (
        XFS_CLASSIC.replace("&#56;", '<img src="/d.png">'),
        "holds '', not one digit",
    ),
    "two digits in one span": (XFS_CLASSIC.replace("&#56;", "81"), "holds '81'"),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_a_captcha_that_does_not_read_cleanly_is_refused(case: str) -> None:
    page, problem = UNREADABLE[case]
    with pytest.raises(CaptchaUnreadable) as caught:
        positioned_digits(page, 4)
    assert problem in str(caught.value) and not caught.value.absent


def test_a_page_without_a_captcha_says_so() -> None:
    for page, within in (("<form><input name='login'></form>", None), (XFS_CLASSIC, "nothing")):
        with pytest.raises(CaptchaUnreadable) as caught:
            positioned_digits(page, 4, within)
        assert caught.value.absent


def _page(body: str) -> Response:
    headers = {"content-type": "text/html; charset=utf-8"}
    return Response(200, headers, body.encode(), "http://127.0.0.1:9/login.html")


def _login_page_step(optional: bool) -> Step:
    captcha = Captcha("positioned_digits", 4, WITHIN)
    return Step(
        name="login_page",
        url="/login.html",
        extract={"code": Extract(captcha=captcha, optional=optional)},
    )


def test_extraction_names_the_step_and_variable_and_never_guesses() -> None:
    step = _login_page_step(optional=True)
    assert extract_all(step, _page(WITH_LAYOUT_SPANS)) == {"code": "1478"}
    assert extract_all(step, _page("<form>no captcha today</form>")) == {}
    broken = WITH_LAYOUT_SPANS.replace("&#55;", "&#63;")  # a "?" where a digit was drawn
    with pytest.raises(UploadError) as caught:
        extract_all(step, _page(broken))
    assert caught.value.kind is ErrorKind.BAD_RESPONSE
    assert caught.value.message.startswith("login_page: code: a captcha span holds '?'")
    with pytest.raises(UploadError, match="login_page: code: no captcha on the page"):
        extract_all(_login_page_step(optional=False), _page("<form></form>"))


BASE_SPEC = """
id = "capt"
name = "Captcha host"
family = "custom"
base_url = "https://example.invalid"
credential_fields = ["username", "password"]

[auth]
kind = "session_cookie"
cookie_name = "xfss"

[[auth.before_login]]
url = "/login.html"
[auth.before_login.extract]
code = {CAPTCHA}

[auth.login]
method = "POST"
url = "/"
form = { login = "{username}", code = "{code}" }

[[steps]]
method = "POST"
url = "/upload"
file_field = "file"
[steps.extract]
link = { body = true }

[result]
url = "{link}"
"""


@pytest.mark.parametrize(
    ("captcha", "problem"),
    [
        ('{ captcha = { kind = "ocr", length = 4 } }', "captcha.kind: must be one of"),
        ('{ captcha = { kind = "positioned_digits", length = 0 } }', "length: must be at least"),
        ('{ captcha = { kind = "positioned_digits" } }', "captcha.length: missing required"),
        ('{ captcha = { kind = "positioned_digits", length = 4, within = "(" } }', "bad regex"),
        ('{ captcha = { kind = "positioned_digits", length = 4 }, regex = "x" }', "within"),
        ('{ captcha = { kind = "positioned_digits", length = 4 }, json = "a" }', "exactly one"),
    ],
)
def test_a_malformed_captcha_is_one_line_naming_the_key(
    tmp_path: Path, captcha: str, problem: str
) -> None:
    hosts = tmp_path / "hosts"
    hosts.mkdir()
    (hosts / "capt.toml").write_text(BASE_SPEC.replace("{CAPTCHA}", captcha))
    registry = load_specs(hosts)
    [line] = registry.errors
    assert "auth.before_login[0].extract.code" in line and problem in line, line


def test_login_may_use_what_the_steps_before_it_extract(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.mkdir()
    good = '{ captcha = { kind = "positioned_digits", length = 4 } }'
    (hosts / "capt.toml").write_text(BASE_SPEC.replace("{CAPTCHA}", good))
    registry = load_specs(hosts)
    assert registry.errors == []
    assert registry.specs["capt"].auth.before_login[0].extract["code"].captcha == Captcha(
        "positioned_digits", 4
    )
    (hosts / "capt.toml").write_text(
        BASE_SPEC.replace("{CAPTCHA}", good).replace('code = "{code}"', 'code = "{rand}"')
    )
    [line] = load_specs(hosts).errors
    assert "auth.login.form.code" in line and "undefined variable {rand}" in line
