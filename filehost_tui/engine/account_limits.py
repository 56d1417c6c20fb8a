"""The largest file each host's account took at its last account check, kept for `add`.

Volumes are cut when an item is queued, long before any upload talks to the host, so what an
account check learned (`login`, `hosts --check`) must outlive the command that ran it. It is a
small JSON file in the data directory (`{"rapidgator": 5368709120}`), not a database column: it
is a fact about this machine's account for a host, like its stored credentials, and not queue
data (see docs/architecture.md, 'Archives').
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

from filehost_tui.safe_files import atomic_write_private, private_dir

log = logging.getLogger("filehost_tui.engine")


def read_account_limits(path: Path) -> dict[str, int]:
    """host id -> bytes. A missing file is no limits; a damaged one is ignored with a warning
    (the next account check writes it afresh), never an error that stops `add`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring %s (%s); `filehost-tui hosts --check` writes it again", path, exc)
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(host): limit
        for host, limit in data.items()
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0
    }


def remember_account_limits(path: Path, checked: Mapping[str, int | None]) -> None:
    """Record what the checks of these hosts reported; None forgets a host (its account no
    longer reports a limit). Other hosts keep what their own last check said."""
    before = read_account_limits(path)
    limits = dict(before)
    for host, limit in checked.items():
        if limit:
            limits[host] = limit
        else:
            limits.pop(host, None)
    if limits == before:
        return  # nothing learned: no file written (a home keeps only what it needs)
    data = json.dumps(limits, indent=1, sort_keys=True) + "\n"
    private_dir(path.parent)
    atomic_write_private(path, data.encode())


def learned_limit(reported: int | None, spec_limit: int | None) -> int | None:
    """What an account check adds to the spec: its limit when the host reported another one
    (a check that reports none falls back to the spec's, which teaches nothing)."""
    return reported if reported and reported != spec_limit else None
