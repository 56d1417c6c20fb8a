"""Mask known secret values (credentials, tokens) in text that leaves the host client.

A reply excerpt in an error message may echo what was sent (a token in a query string, a password
in a form). The client knows exactly which values are secret, so it masks them raw and URL-encoded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_LENGTH = 4  # masking "a" or "12" everywhere would ruin the message and protect nothing


def scrub(text: str, secrets: Iterable[str]) -> str:
    variants = {
        form
        for value in secrets
        if value and len(value) >= MIN_LENGTH
        for form in (value, quote(value, safe=""), quote_plus(value))
    }
    if not variants:
        return text
    pattern = "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
    return re.sub(pattern, MASK, text)
