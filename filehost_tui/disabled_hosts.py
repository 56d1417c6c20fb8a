"""Uploads queued for a disabled host wait until the host is enabled again. Every face (`add`,
`status`, the TUI) says so in the same words, so a user who meets one of them finds the others.

No engine state is involved: a host is disabled by `enabled = false` under `[hosts.ID]` in
config.toml (docs/architecture.md, 'Uploads for a disabled host').
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from filehost_tui.config import Config

WAITING_DISABLED = "host disabled"
"""Why a pending upload of a disabled host does not start (`status --json`'s `waiting_reason`)."""


def disabled_hosts(config: Config) -> frozenset[str]:
    """Hosts that config.toml turns off."""
    return frozenset(host for host, settings in config.hosts.items() if not settings.enabled)


def waiting_reason(status: str, host: str, disabled: Collection[str]) -> str | None:
    """Why a pending upload waits beyond its turn, or None when it just waits its turn."""
    return WAITING_DISABLED if status == "pending" and host in disabled else None


def how_to_enable(host: str, config_file: Path | str) -> str:
    """What to do, as the end of a sentence: the engine reads config.toml when it starts."""
    return (
        f"set enabled = true under [hosts.{host}] in {config_file}, "
        "then restart the runner or the TUI"
    )
