"""The fake families, by the names used in /work/notes/protocols.md."""

from __future__ import annotations

from filehost_tui.demo.families.base import Family, HostContext
from filehost_tui.demo.families.catbox import Catbox
from filehost_tui.demo.families.gofile import Gofile
from filehost_tui.demo.families.k2s import K2s
from filehost_tui.demo.families.nitroflare import Nitroflare
from filehost_tui.demo.families.onefichier import OneFichier
from filehost_tui.demo.families.pixeldrain import Pixeldrain
from filehost_tui.demo.families.rapidgator import Rapidgator
from filehost_tui.demo.families.xfs_api import XfsApi
from filehost_tui.demo.families.xfs_session import XfsSession
from filehost_tui.demo.families.zero_x0 import ZeroX0

FAMILIES: dict[str, type[Family]] = {
    cls.name: cls
    for cls in (
        Rapidgator,
        K2s,
        XfsApi,
        XfsSession,
        OneFichier,
        Gofile,
        Pixeldrain,
        Catbox,
        ZeroX0,
        Nitroflare,
    )
}

__all__ = ["FAMILIES", "Family", "HostContext"]
