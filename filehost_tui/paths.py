"""Where the database, config, cache and logs live (--home or FILEHOST_TUI_HOME, else platformdirs)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from filehost_tui.safe_files import private_dir

APP_NAME = "filehost-tui"
HOME_ENV = "FILEHOST_TUI_HOME"


@dataclass(frozen=True)
class AppPaths:
    data_dir: Path
    config_dir: Path
    cache_dir: Path
    log_dir: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> AppPaths:
        """--home wins over FILEHOST_TUI_HOME, which wins over the platform's user dirs."""
        chosen = home if home is not None else os.environ.get(HOME_ENV) or None
        if chosen is not None:
            root = Path(chosen).expanduser().resolve()
            return cls(root, root, root / "cache", root / "logs")
        return cls(
            Path(platformdirs.user_data_dir(APP_NAME)),
            Path(platformdirs.user_config_dir(APP_NAME)),
            Path(platformdirs.user_cache_dir(APP_NAME)),
            Path(platformdirs.user_log_dir(APP_NAME)),
        )

    @property
    def database(self) -> Path:
        return self.data_dir / "filehost-tui.db"

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def credentials_file(self) -> Path:
        return self.config_dir / "credentials.toml"

    @property
    def user_hosts_dir(self) -> Path:
        return self.config_dir / "hosts"

    @property
    def archives_dir(self) -> Path:
        return self.cache_dir / "archives"

    @property
    def account_limits(self) -> Path:
        """What each host's last account check said it takes (engine/account_limits.py)."""
        return self.data_dir / "account-limits.json"

    @property
    def runner_lock(self) -> Path:
        return self.data_dir / "runner.lock"

    @property
    def runner_name(self) -> Path:
        """The name this home's runner last ran under (engine/runners.py, home_name)."""
        return self.data_dir / "runner-name"

    def ensure(self) -> None:
        """Create the directories private to the user (0700): they hold tokens, archives and logs."""
        for d in (self.data_dir, self.config_dir, self.cache_dir, self.log_dir):
            private_dir(d)
