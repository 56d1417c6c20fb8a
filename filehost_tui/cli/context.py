"""What every subcommand needs: paths, config, host specs and the stores on the one database."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import peewee

from filehost_tui.config import Config, load_config
from filehost_tui.engine.database import open_database
from filehost_tui.engine.metrics_store import MetricsStore
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.engine.volumes import split_limit
from filehost_tui.hosts.spec import SpecRegistry
from filehost_tui.hosts.spec_loader import load_specs
from filehost_tui.paths import AppPaths


@dataclass
class Context:
    paths: AppPaths

    @cached_property
    def config(self) -> Config:
        return load_config(self.paths.config_file)

    @cached_property
    def registry(self) -> SpecRegistry:
        return load_specs(self.paths.user_hosts_dir)

    @cached_property
    def db(self) -> peewee.SqliteDatabase:
        self.paths.ensure()
        return open_database(self.paths.database)

    @cached_property
    def queue(self) -> QueueStore:
        return QueueStore(self.db, host_limits=self.host_limits())

    @cached_property
    def metrics(self) -> MetricsStore:
        return MetricsStore(self.db)

    def host_limits(self) -> dict[str, int | None]:
        return {
            host_id: split_limit(spec.max_file_size, self.config.host(host_id))
            for host_id, spec in self.registry.specs.items()
        }

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.close()
