"""`run`: the headless runner."""

from __future__ import annotations

import argparse
import sys

from filehost_tui.cli.context import Context
from filehost_tui.engine.engine import Engine
from filehost_tui.runner import make_printer, run


def cmd_run(ctx: Context, args: argparse.Namespace) -> int:
    for problem in ctx.registry.errors:
        print(f"filehost-tui: warning: {problem}", file=sys.stderr)
    printer = make_printer(sys.stdout, args.json)
    engine = Engine(ctx.paths, ctx.config, ctx.registry, ctx.db, sink=printer)
    return run(engine, printer, until_idle=args.until_idle)
