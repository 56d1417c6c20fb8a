"""Items larger than a host accepts go up as numbered volumes: byte ranges of the one upload.

A volume is a plain slice (`NAME.zip.001`, `NAME.zip.002`, ...) of the bytes the item would send
whole (a folder's generated ZIP, or the file), so `cat NAME.zip.* > NAME.zip` restores it and
7-Zip opens `.001` directly. Each volume is its own upload row: it retries, pauses and shows
progress on its own.
"""

from __future__ import annotations

from filehost_tui.config import HostSettings


def split_limit(spec_limit: int | None, settings: HostSettings) -> int | None:
    """The largest upload a host gets in one piece: the tightest of the spec's max_file_size and
    the user's `max_file_size` / `split_size` for the host (None: no limit)."""
    limits = [n for n in (spec_limit, settings.max_file_size, settings.split_size) if n]
    return min(limits) if limits else None


def volume_ranges(size: int, limit: int | None) -> list[tuple[int, int]]:
    """(offset, length) of each volume; [] when the item goes up whole."""
    if limit is None or size <= limit:
        return []
    return [(start, min(limit, size - start)) for start in range(0, size, limit)]


def volume_name(name: str, volume: int, volumes: int) -> str:
    """`NAME.001`: three digits at least, more only past 999 volumes, so names sort in order."""
    return f"{name}.{volume:0{max(3, len(str(volumes)))}d}"
