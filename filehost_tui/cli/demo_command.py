"""`demo`: see uploads move, a retry happen and links appear, with no account and no network."""

from __future__ import annotations

import argparse
import sys

from filehost_tui.context import Context

TRY_KEYS = (
    "Demo: about 4 minutes at the demo hosts' speed. Try p on concert.mkv, r on the upload "
    "0x0 fails, y on a finished one, ? for every key."
)


def cmd_demo(ctx: Context, args: argparse.Namespace) -> int:
    # imported here: every other command would pay for loading the fake hosts
    from filehost_tui.demo.session import demo_session

    interactive = not args.headless
    with demo_session(ctx.paths, fast=args.fast, interactive=interactive) as session:
        demo = Context(session.paths, own_database=True)
        try:
            ids = session.queue(demo.queue)
            print(
                f"demo: {len(ids)} uploads queued to local demo hosts on 127.0.0.1 "
                f"(home {session.paths.data_dir})",
                file=sys.stderr,
            )
            if interactive:
                from filehost_tui.tui.launch import open_tui

                return open_tui(demo, None if args.fast else TRY_KEYS)
            return _run_headless(demo)
        finally:
            demo.close()


def _run_headless(demo: Context) -> int:
    from filehost_tui.engine.engine import Engine
    from filehost_tui.runner import make_printer, run

    printer = make_printer(sys.stdout, as_json=False)
    engine = Engine(demo.paths, demo.config, demo.registry, demo.db, sink=printer)
    code = run(engine, printer, until_idle=True)
    print("\nlinks:")
    for upload in demo.queue.uploads():
        if upload.download_url:
            print(f"  {upload.item.name} ({upload.host_name}): {upload.download_url}")
    return code
