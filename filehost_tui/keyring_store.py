"""The OS keyring as an optional credential store (the `keyring` extra).

Used only when the `keyring` package imports and its configured backend can really store something:
the fail and null backends (and an empty chainer) mean "no keyring", and so does a backend keyring
ranks below 1 ("not recommended", e.g. keyrings.alt's plaintext file) unless the user named it in
PYTHON_KEYRING_BACKEND: it would be an unencrypted file shared by every --home, called a keyring. A backend that errors (locked
collection, no D-Bus on a headless server) is treated as absent for that call, never as fatal, and
its error text is not logged (backends may echo what they were given).

Entries: service "filehost-tui", username "<host_id>:<field>".
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

SERVICE = "filehost-tui"

log = logging.getLogger(__name__)


def username(host_id: str, field: str) -> str:
    return f"{host_id}:{field}"


def backend() -> Any | None:
    """The configured keyring backend if one is usable, else None."""
    try:
        import keyring
        from keyring.backends import chainer, fail, null
    except Exception:  # not installed, or a broken install: no keyring
        return None
    try:
        chosen = keyring.get_keyring()
        if isinstance(chosen, fail.Keyring | null.Keyring):
            return None
        if getattr(chosen, "priority", 1) < 1 and not os.environ.get("PYTHON_KEYRING_BACKEND"):
            return None  # picked for want of a real one (keyrings.alt's plaintext file, say)
        if isinstance(chosen, chainer.ChainerBackend) and not chosen.backends:
            return None
    except Exception:
        return None
    return chosen


def _warn(action: str, exc: BaseException) -> None:
    log.warning("keyring %s failed (%s); using credentials.toml", action, exc.__class__.__name__)


def get_many(host_id: str, fields: Sequence[str]) -> dict[str, str]:
    """The fields the keyring holds for a host (empty if there is no usable keyring)."""
    kr = backend()
    found: dict[str, str] = {}
    if kr is None:
        return found
    for field in fields:
        try:
            value = kr.get_password(SERVICE, username(host_id, field))
        except Exception as exc:
            _warn("read", exc)
            break
        if value:
            found[field] = value
    return found


def set_many(host_id: str, values: Mapping[str, str]) -> bool:
    """Store all values, or none: on a failure, what was written is removed again. True if stored."""
    kr = backend()
    if kr is None:
        return False
    written: list[str] = []
    try:
        for field, value in values.items():
            kr.set_password(SERVICE, username(host_id, field), value)
            written.append(field)
    except Exception as exc:
        _warn("write", exc)
        for field in written:
            with contextlib.suppress(Exception):  # best effort: the write already failed
                kr.delete_password(SERVICE, username(host_id, field))
        return False
    return True


def delete_many(host_id: str, fields: Sequence[str]) -> bool:
    """Remove the host's fields from the keyring; True if at least one was there."""
    kr = backend()
    if kr is None:
        return False
    removed = False
    for field in fields:
        name = username(host_id, field)
        try:
            if kr.get_password(SERVICE, name) is None:
                continue
            kr.delete_password(SERVICE, name)
            removed = True
        except Exception as exc:
            _warn("delete", exc)
    return removed
