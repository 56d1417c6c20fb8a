"""`prune --finished-before AGE [--dry-run]`: forget history a user no longer wants to see."""

from __future__ import annotations

import argparse
import time

from filehost_tui.cli.durations import age_seconds
from filehost_tui.context import Context
from filehost_tui.engine.history_prune import count_prunable, prune_history


def add_prune_parser(sub: argparse._SubParsersAction) -> None:
    prune = sub.add_parser(
        "prune", help="forget completed and cancelled uploads that finished long ago"
    )
    prune.add_argument(
        "--finished-before",
        type=age_seconds,
        required=True,
        metavar="AGE",
        help="those that finished more than AGE ago (e.g. 90d)",
    )
    prune.add_argument("--dry-run", action="store_true", help="say what would go, remove nothing")
    prune.set_defaults(func=cmd_prune)


def cmd_prune(ctx: Context, args: argparse.Namespace) -> int:
    before = time.time() - args.finished_before
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(before))
    if args.dry_run:
        found = count_prunable(ctx.db, before)
        print(
            f"would remove {found.uploads} upload(s) finished before {when} and {found.items} "
            "item(s) left without uploads; statistics stay"
        )
        return 0
    done = prune_history(ctx.db, before)
    ctx.metrics.prune_samples()
    print(
        f"removed {done.uploads} upload(s) finished before {when} and {done.items} item(s) left "
        "without uploads; statistics stay"
    )
    return 0
