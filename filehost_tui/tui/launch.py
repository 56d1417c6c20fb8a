"""`filehost-tui` with no subcommand: decide how uploads run, then open the app.

If a `filehost-tui run` already holds this database's runner lock, the app attaches to it: it starts
no workers, reads progress from the database and acts through the control plane; once that runner
has stopped, `u` starts the workers here. Otherwise the app runs the engine in-process. Textual is
imported here, inside the function, never at CLI import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from filehost_tui.context import Context
    from filehost_tui.tui.session import TuiSession


def build_session(ctx: Context) -> TuiSession:
    from filehost_tui.engine.control import Control
    from filehost_tui.engine.engine import Engine, engine_threads
    from filehost_tui.engine.pg_database import is_postgres
    from filehost_tui.engine.runner_lock import runner_pid
    from filehost_tui.tui.session import TuiSession

    hosts = tuple(h for h in sorted(ctx.registry.specs) if ctx.config.host(h).enabled)
    pid = runner_pid(ctx.paths)

    def engine_factory(*, sink, spawn) -> Engine:
        return Engine(
            ctx.paths, ctx.config, ctx.registry, ctx.db, sink=sink, spawn=spawn, holder="tui"
        )

    return TuiSession(
        paths=ctx.paths,
        config=ctx.config,
        db=ctx.db,
        queue=ctx.queue,
        metrics=ctx.metrics,
        control=Control(ctx.queue, ctx.paths, keep_archives=ctx.config.limits.keep_archives),
        hosts=hosts,
        mode="attached" if pid is not None else "in-process",
        runner_pid=pid,
        engine_factory=engine_factory,
        engine_threads=engine_threads(ctx.registry, ctx.config),
        warnings=tuple(ctx.registry.errors),
        show_runners=is_postgres(ctx.db) or len(ctx.runners.all()) > 1,
    )


def open_tui(ctx: Context, welcome: str | None = None) -> int:
    """Run the app until the user quits; the exit code is the app's (0 unless it crashed)."""
    from filehost_tui.app_logging import setup_file_logging
    from filehost_tui.tui.app import FilehostApp

    setup_file_logging(ctx.paths)  # engine warnings go to the log file, never over the screen
    session = build_session(ctx)
    session.welcome = welcome
    app = FilehostApp(session)
    app.run()
    return app.return_code or 0
