"""What the archive cache may hold: the ZIPs that a pending, uploading or paused upload still
needs. Everything else (archives of finished or cancelled items, `.part` files a killed build left)
is removed at every engine start and after every cancel; see docs/architecture.md, 'Archives'.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from filehost_tui.engine.models import FileHostUpload
from filehost_tui.engine.states import Status

_ITEM_PREFIX = re.compile(r"^(\d+)-.*\.zip(\.part)?$")
NEEDED = (Status.PENDING, Status.UPLOADING, Status.PAUSED)


def sweep_archives(
    archives_dir: Path,
    *,
    keep_archives: bool,
    builds_may_run: bool = True,
) -> list[Path]:
    """Remove what no open upload needs, and return it.

    `builds_may_run`: another thread or process may be writing a `.part` for an item that is still
    needed, so such files stay; at engine start nothing builds and every `.part` is stale.
    `keep_archives` (limits.keep_archives) keeps finished ZIPs, never a `.part`.
    """
    found: list[tuple[Path, int, bool]] = []
    with contextlib.suppress(FileNotFoundError):
        for path in archives_dir.iterdir():
            match = _ITEM_PREFIX.match(path.name)
            if match:
                found.append((path, int(match[1]), match[2] is not None))
    if not found:
        return []
    ids = sorted({item_id for _, item_id, _ in found})
    needed = {
        r.item_id
        for r in FileHostUpload.select(FileHostUpload.item.alias("item_id"))
        .where(FileHostUpload.item.in_(ids) & FileHostUpload.status.in_(list(NEEDED)))
        .distinct()
    }
    removed = []
    for path, item_id, is_part in found:
        if item_id in needed:
            if not is_part or builds_may_run:
                continue
        elif keep_archives and not is_part:
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed
