"""`demo`: see uploads move, a retry happen and links appear, with no account and no network."""

from __future__ import annotations

import argparse
import sys

from filehost_tui.context import Context


def cmd_demo(ctx: Context, args: argparse.Namespace) -> int:
    # imported here: every other command would pay for loading the fake hosts
    from filehost_tui.demo.session import demo_session
    from filehost_tui.engine.engine import Engine
    from filehost_tui.runner import make_printer, run

    with demo_session(ctx.paths) as session:
        demo = Context(session.paths, own_database=True)
        try:
            ids = session.queue(demo.queue)
            print(
                f"demo: {len(ids)} uploads queued to local demo hosts on 127.0.0.1 "
                f"(home {session.paths.data_dir})",
                file=sys.stderr,
            )
            if not args.headless:
                from filehost_tui.tui.launch import open_tui

                return open_tui(demo)
            printer = make_printer(sys.stdout, as_json=False)
            engine = Engine(demo.paths, demo.config, demo.registry, demo.db, sink=printer)
            code = run(engine, printer, until_idle=True)
            print("\nlinks:")
            for upload in demo.queue.uploads():
                if upload.download_url:
                    print(f"  {upload.item.name} ({upload.host_name}): {upload.download_url}")
            return code
        finally:
            demo.close()
