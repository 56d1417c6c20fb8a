"""Eight hosts in use, in every state the hosts panel tells apart (imported by the hosts tests;
holds no tests itself). Real rows in a real SQLite file, written through QueueStore."""

from __future__ import annotations

from pathlib import Path

from filehost_tui.engine.models import Item
from filehost_tui.errors import ErrorKind
from filehost_tui.tui.session import TuiSession
from tests.tui_support import MiB, make_file

EIGHT_HOSTS = (
    "1fichier",
    "catbox",
    "ddownload",
    "gofile",
    "katfile",
    "nitroflare",
    "pixeldrain",
    "rapidgator",
)
"""Sorted by name, rapidgator (the one failing) comes last: the panel must lift it."""


def seed_eight_hosts(session: TuiSession, files: Path) -> dict[str, int]:
    q = session.queue
    ids: dict[str, int] = {}

    def add(name: str, size: int, host: str) -> int:
        return q.add([make_file(files, name, size)], [host])[0]

    for host in ("1fichier", "catbox", "ddownload"):
        ids[f"done-{host}"] = add(f"photos-{host}.zip", 20 * MiB, host)
        q.claim(host, "test")
        q.complete(ids[f"done-{host}"], f"https://{host}.example/f/abc", "abc")
    ids["uploading"] = add("holiday-2024.zip", 700 * MiB, "gofile")
    claimed = q.claim("gofile", "test")
    q.progress(ids["uploading"], 301 * MiB, claimed.lease)
    ids["pending"] = add("notes.txt", 4096, "katfile")
    ids["paused"] = add("backup.tar", 90 * MiB, "nitroflare")
    q.pause(ids["paused"])
    ids["queued"] = add("slides.pdf", 12 * MiB, "pixeldrain")
    ids["auth"] = add("concert.mkv", 300 * MiB, "rapidgator")
    q.claim("rapidgator", "test")
    q.fail(
        ids["auth"],
        ErrorKind.AUTH,
        "login refused: wrong password",
        retryable=False,
        max_retries=5,
        base_delay=2.0,
    )
    for item in Item.select():
        Item.update(path=f"/srv/media/{item.name}").where(Item.id == item.id).execute()
    return ids
