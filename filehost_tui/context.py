"""What every face needs (each subcommand, and the TUI it starts): paths, config, host specs and
the stores on the one database."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

import peewee

from filehost_tui.config import (
    Config,
    env_key,
    is_server_url,
    load_config,
    unknown_host_table,
)
from filehost_tui.engine.control import Control
from filehost_tui.engine.database import database_error, open_database
from filehost_tui.engine.metrics_store import MetricsStore
from filehost_tui.engine.pg_database import open_pg_database, pg_error
from filehost_tui.engine.queue_reads import QueueReads
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.engine.runners import RunnerRegistry
from filehost_tui.engine.volumes import HostLimits
from filehost_tui.errors import UserError
from filehost_tui.hosts.spec import SpecRegistry
from filehost_tui.hosts.spec_loader import load_specs
from filehost_tui.paths import AppPaths

DATABASE_URL_ENV = "FILEHOST_TUI_DATABASE_URL"


@dataclass
class Context:
    paths: AppPaths
    db_url: str | None = None
    """--db URL, which wins over FILEHOST_TUI_DATABASE_URL and config.toml's database_url."""
    own_database: bool = False
    """SQLite under the home whatever database the user chose (the demo never touches a shared
    queue)."""

    @cached_property
    def config(self) -> Config:
        config = load_config(self.paths.config_file)
        for host_id in config.hosts:
            # a host whose spec file did not load is reported as that file's problem instead
            if host_id not in self.registry.specs and self.registry.problem_for(host_id) is None:
                raise unknown_host_table(self.paths.config_file, host_id, self.registry.specs)
        for host_id in self.registry.specs:
            name = env_key(host_id, "BASE_URL")
            url = os.environ.get(name)
            if url and not is_server_url(url):
                raise UserError(
                    f"{name}={url!r} is not a URL; set it to https://host[:port][/path]"
                )
        return config

    @cached_property
    def registry(self) -> SpecRegistry:
        return load_specs(self.paths.user_hosts_dir)

    @cached_property
    def database_url(self) -> str | None:
        """The shared PostgreSQL queue's URL, or None for SQLite under the home (see
        docs/architecture.md, 'Two databases')."""
        if self.own_database:
            return None
        return self.db_url or os.environ.get(DATABASE_URL_ENV) or self.config.database_url

    @cached_property
    def db(self) -> peewee.Database:
        self.paths.ensure()
        if self.database_url:
            return open_pg_database(self.database_url)
        return open_database(self.paths.database)

    def database_error(self, exc: BaseException) -> UserError:
        """A database failure met after opening, as one sentence (never the URL's password)."""
        if self.database_url:
            return pg_error(self.database_url, exc)
        return database_error(self.paths.database, exc)

    @cached_property
    def queue(self) -> QueueStore:
        return QueueStore(self.db, host_limits=self.host_limits())

    @cached_property
    def control(self) -> Control:
        return Control(self.queue, self.paths, keep_archives=self.config.limits.keep_archives)

    @cached_property
    def reads(self) -> QueueReads:
        return QueueReads(self.db)

    @cached_property
    def runners(self) -> RunnerRegistry:
        return RunnerRegistry(self.db)

    @cached_property
    def metrics(self) -> MetricsStore:
        return MetricsStore(self.db)

    def host_limits(self) -> HostLimits:
        return HostLimits(self.registry.specs, self.config, self.paths.account_limits)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.close()
