"""Items larger than a host accepts go up as numbered volumes: byte ranges of the one upload.

A volume is a plain slice (`NAME.zip.001`, `NAME.zip.002`, ...) of the bytes the item would send
whole (a folder's generated ZIP, or the file), so `cat NAME.zip.* > NAME.zip` restores it and
7-Zip opens `.001` directly. Each volume is its own upload row: it retries, pauses and shows
progress on its own.

What a host accepts is the tightest of three limits: its spec's `max_file_size`, the user's
`max_file_size` under `[hosts.ID]`, and what its account reported at the last account check
(engine/account_limits.py). See docs/architecture.md, 'Archives'.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from filehost_tui.config import Config, HostSettings
from filehost_tui.engine.account_limits import read_account_limits
from filehost_tui.file_names import name_text
from filehost_tui.hosts.spec import HostSpec
from filehost_tui.units import human_size


@dataclass(frozen=True)
class HostLimit:
    """The most a host takes in one piece, and how items over it are cut."""

    accepts: int | None  # bytes; None = no limit known
    source: str  # where `accepts` comes from, for messages: "from its spec", ...
    volume_size: int | None  # `accepts`, or the user's smaller split_size
    split_files: bool = True  # False: a plain file over `accepts` is refused, not cut

    def describe(self, host: str) -> str:
        """As messages say it: `katfile's limit of 2.0 GiB (from its last account check)`."""
        return f"{host}'s limit of {human_size(self.accepts or 0)} ({self.source})"


def host_limit(
    spec_limit: int | None,
    settings: HostSettings,
    account_limit: int | None = None,
    *,
    split_files: bool = True,
) -> HostLimit | None:
    """The tightest of the spec's, the config's and the account's limits (None: no limit)."""
    known = [
        (spec_limit, "from its spec"),
        (settings.max_file_size, "max_file_size in config.toml"),
        (account_limit, "from its last account check"),
    ]
    given = [(n, where) for n, where in known if n]
    if not given and not settings.split_size:
        return None
    accepts, source = min(given) if given else (None, "")
    volume = min(n for n in (accepts, settings.split_size) if n)
    return HostLimit(accepts, source, volume, split_files)


class HostLimits(Mapping[str, HostLimit | None]):
    """Each known host's limit, with the account's part read from the account-check file at
    every look-up: a `login` or `hosts --check` in another terminal counts for the next add."""

    def __init__(self, specs: Mapping[str, HostSpec], config: Config, account_file: Path) -> None:
        self._spec_limits = {host: spec.max_file_size for host, spec in specs.items()}
        self._config = config
        self._account_file = account_file

    def __getitem__(self, host: str) -> HostLimit | None:
        spec_limit = self._spec_limits[host]
        account = read_account_limits(self._account_file).get(host)
        split_files = self._config.limits.split_files
        return host_limit(spec_limit, self._config.host(host), account, split_files=split_files)

    def __iter__(self) -> Iterator[str]:
        return iter(self._spec_limits)

    def __len__(self) -> int:
        return len(self._spec_limits)

    def __contains__(self, host: object) -> bool:
        return host in self._spec_limits


def volume_ranges(size: int, limit: int | None) -> list[tuple[int, int]]:
    """(offset, length) of each volume; [] when the item goes up whole."""
    if limit is None or size <= limit:
        return []
    return [(start, min(limit, size - start)) for start in range(0, size, limit)]


def sent_name(kind: str, item_name: str, path: Path) -> str:
    """The name the host gets for an item sent whole: a folder's ZIP is named for the item,
    a file keeps its own name (undecodable bytes spelled _xNN)."""
    return f"{item_name}.zip" if kind == "folder" else name_text(path.name)


def volume_name(name: str, volume: int, volumes: int) -> str:
    """`NAME.001`: three digits at least, more only past 999 volumes, so names sort in order."""
    return f"{name}.{volume:0{max(3, len(str(volumes)))}d}"
