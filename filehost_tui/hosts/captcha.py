"""Captchas a host draws in its own HTML, read without OCR.

XFileSharing login forms can show their digit code as HTML: every digit is a `<span>` moved into
place with `padding-left`, and the spans come in shuffled order, so the code is the digits sorted by
that offset. Anything that does not read cleanly (a digit missing, two at one offset, a span that
holds no digit) is reported instead of guessed: a wrong answer costs a failed login, and some hosts
lock an account after a few.
"""

from __future__ import annotations

import html
import re

from filehost_tui.hosts.spec import Captcha

_SPAN = re.compile(r"<span\b([^>]*)>(.*?)</span\s*>", re.IGNORECASE | re.DOTALL)
_STYLE = re.compile(r"""\bstyle\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_OFFSET = re.compile(r"(?:^|;)\s*padding-left\s*:\s*(\d+(?:\.\d+)?)\s*px", re.IGNORECASE)


class CaptchaUnreadable(ValueError):
    """The page's captcha cannot be read with certainty; the message says why. `absent`: the page
    shows no captcha at all (which an optional extraction accepts)."""

    def __init__(self, message: str, *, absent: bool = False) -> None:
        super().__init__(message)
        self.absent = absent


def _region(text: str, within: str | None) -> str:
    if within is None:
        return text
    match = re.search(within, text, re.DOTALL)
    if match is None:
        raise CaptchaUnreadable("no captcha on the page", absent=True)
    return match.group(1) if match.re.groups else match.group(0)


def positioned_digits(text: str, length: int, within: str | None = None) -> str:
    """The code drawn as offset spans, left to right; raises CaptchaUnreadable."""
    placed: dict[float, str] = {}
    for attrs, inner in _SPAN.findall(_region(text, within)):
        style = _STYLE.search(attrs)
        offset = _OFFSET.search(html.unescape(style.group(1) or style.group(2))) if style else None
        if offset is None:
            continue
        digit = html.unescape(re.sub(r"<[^>]*>", "", inner)).strip()
        if not re.fullmatch(r"[0-9]", digit):
            raise CaptchaUnreadable(f"a captcha span holds {digit[:10]!r}, not one digit")
        at = float(offset.group(1))
        if at in placed:
            raise CaptchaUnreadable(f"two captcha digits at {offset.group(1)}px")
        placed[at] = digit
    if not placed:
        raise CaptchaUnreadable("no captcha digits on the page", absent=True)
    if len(placed) != length:
        raise CaptchaUnreadable(f"the captcha shows {len(placed)} digits, expected {length}")
    return "".join(placed[at] for at in sorted(placed))


def read_captcha(captcha: Captcha, text: str) -> str:
    """The answer to a captcha of the spec's kind (the loader admits only known kinds)."""
    return positioned_digits(text, captcha.length, captcha.within)
