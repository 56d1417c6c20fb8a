"""File names that are not valid UTF-8 turned into text that SQLite, pycurl and a terminal accept.

Python keeps each undecodable byte of a file name as a lone surrogate (U+DC80..U+DCFF), which every
UTF-8 encoder refuses. A name a host receives or an item shows spells such a byte `_xNN`, as the
member names of a folder's archive do; a diagnostic (an error message, a printed line) spells it
`\\xNN`. The path itself is stored byte for byte (models.PathField), so the file is still found.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SURROGATE = re.compile("[\ud800-\udfff]")


def _spelled(prefix: str) -> Callable[[re.Match[str]], str]:
    def spell(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"{prefix}{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else "\ufffd"

    return spell


def has_undecodable(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def name_text(name: str) -> str:
    """A name fit to show and to give a host: caf\\udcff.bin -> caf_xff.bin."""
    return _SURROGATE.sub(_spelled("_x"), name)


def diagnostic_text(text: str) -> str:
    """Text fit to store and print: caf\\udcff.bin -> caf\\xff.bin."""
    return _SURROGATE.sub(_spelled("\\x"), text)
