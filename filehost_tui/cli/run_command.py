"""`run`: the headless runner."""

from __future__ import annotations

import argparse
import sys

from filehost_tui.context import Context


def cmd_run(ctx: Context, args: argparse.Namespace) -> int:
    from filehost_tui.engine.engine import Engine  # only `run` needs workers, pycurl and archives
    from filehost_tui.engine.runners import check_name, home_name
    from filehost_tui.runner import make_printer, run

    name = check_name(args.name) if args.name is not None else home_name(ctx.paths)

    for problem in ctx.registry.errors:
        print(f"filehost-tui: warning: {problem}", file=sys.stderr)
    printer = make_printer(sys.stdout, args.json)
    engine = Engine(ctx.paths, ctx.config, ctx.registry, ctx.db, sink=printer, name=name)
    return run(engine, printer, until_idle=args.until_idle)
