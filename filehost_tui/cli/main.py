"""The `filehost-tui` command line. Textual is imported only when the TUI is opened."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Sequence

import peewee

from filehost_tui import __version__
from filehost_tui.cli.demo_command import cmd_demo
from filehost_tui.cli.hosts_command import cmd_hosts
from filehost_tui.cli.login_command import cmd_login, cmd_logout
from filehost_tui.cli.prune_command import add_prune_parser
from filehost_tui.cli.queue_commands import cmd_add, cmd_assign, cmd_control, cmd_links
from filehost_tui.cli.run_command import cmd_run
from filehost_tui.cli.stats_command import cmd_stats
from filehost_tui.cli.status_command import add_status_parser
from filehost_tui.context import Context
from filehost_tui.engine.metrics_store import PERIODS
from filehost_tui.errors import UserError
from filehost_tui.links import FORMATS
from filehost_tui.paths import AppPaths
from filehost_tui.printable import printable

DESCRIPTION = (
    "Queue files and folders and upload them to file hosts. Without a command it opens the TUI; "
    "`run` uploads without it (headless), `demo` tries everything against local demo hosts."
)
MAX_ID = 2**63 - 1  # SQLite's largest integer key


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and exit 2, like every bad input
        self.exit(2, f"filehost-tui: error: {message}; see `filehost-tui --help`\n")


HOME_HELP = "keep database, config, cache and logs in DIR"
DB_HELP = (
    "use the shared PostgreSQL queue at URL (postgresql://USER@HOST:5432/DB) instead of SQLite"
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="filehost-tui", description=DESCRIPTION)
    parser.add_argument("--home", metavar="DIR", help=HOME_HELP)
    parser.add_argument("--db", metavar="URL", help=DB_HELP)
    parser.add_argument("--version", action="version", version=f"filehost-tui {__version__}")
    # Global options are accepted after the subcommand too; SUPPRESS leaves the value given
    # before it alone when they are not repeated there.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", metavar="DIR", default=argparse.SUPPRESS, help=HOME_HELP)
    common.add_argument("--db", metavar="URL", default=argparse.SUPPRESS, help=DB_HELP)
    sub = _Subcommands(parser.add_subparsers(dest="command", parser_class=_Parser), common)

    add = sub.add_parser("add", help="queue files or folders for upload")
    add.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (zipped)")
    add.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="read the paths from FILE (- for standard input), one per line",
    )
    add.add_argument(
        "-0", dest="nul", action="store_true", help="with --from: paths are NUL-separated"
    )
    add.add_argument(
        "--host",
        action="append",
        required=True,
        metavar="ID",
        help="upload to this host; repeat for several (see `filehost-tui hosts`)",
    )
    add.add_argument("--name", metavar="TITLE", help="the name to show (one path only)")
    whose = add.add_mutually_exclusive_group()
    whose.add_argument(
        "--runner",
        metavar="NAME",
        help="the runner that uploads it (default: this home's runner, see `run --name`)",
    )
    whose.add_argument(
        "--anywhere",
        action="store_true",
        help="any runner may upload it: the paths are valid on every runner (shared storage)",
    )
    add.set_defaults(func=cmd_add)

    add_status_parser(sub)

    for name in ("retry", "cancel", "pause", "resume"):
        ctl = sub.add_parser(name, help=f"{name} uploads")
        ctl.add_argument("ids", nargs="*", type=_upload_id, metavar="UPLOAD_ID")
        group = ctl.add_mutually_exclusive_group()
        group.add_argument("--all", action="store_true", help="every upload it applies to")
        group.add_argument("--failed", action="store_true", help="every failed upload")
        group.add_argument("--host", metavar="ID", help="every upload to this host")
        if name == "pause":
            ctl.add_argument(
                "--drain",
                action="store_true",
                help="let running uploads finish and start none of the rest (`resume` undoes it)",
            )
        ctl.set_defaults(func=cmd_control)

    assign = sub.add_parser("assign", help="hand uploads to another runner")
    assign.add_argument("ids", nargs="+", type=_upload_id, metavar="UPLOAD_ID")
    to = assign.add_mutually_exclusive_group(required=True)
    to.add_argument("--runner", metavar="NAME", help="the runner that takes them from now on")
    to.add_argument("--anywhere", action="store_true", help="any runner may take them")
    assign.set_defaults(func=cmd_assign)

    links = sub.add_parser("links", help="print links of completed uploads")
    links.add_argument(
        "--format",
        choices=FORMATS,
        default="plain",
        help="plain (default): ITEM (HOST): URL a line; urls: bare URLs, for scripts",
    )
    links.add_argument("--item", type=_upload_id, metavar="ID", help="only this item's links")
    links.set_defaults(func=cmd_links)

    demo = sub.add_parser("demo", help="try it: local demo hosts on 127.0.0.1, no account needed")
    demo.add_argument("--headless", action="store_true", help="run to the end and print the links")
    demo.add_argument(
        "--fast", action="store_true", help="done in seconds (for scripts); default: ~4 minutes"
    )
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="process the queue without the TUI (headless)")
    run.add_argument("--until-idle", action="store_true", help="exit once nothing is pending")
    run.add_argument("--json", action="store_true", help="JSON lines instead of text lines")
    run.add_argument(
        "--name",
        metavar="NAME",
        help="this runner's name (default: the one this home last ran, else the host name)",
    )
    run.set_defaults(func=cmd_run)

    add_prune_parser(sub)

    stats = sub.add_parser("stats", help="upload statistics per host")
    stats.add_argument("--json", action="store_true", help="one JSON document")
    stats.add_argument("--period", choices=PERIODS, default="all", help="default: all")
    stats.set_defaults(func=cmd_stats)

    hosts = sub.add_parser(
        "hosts",
        help="list host specs, their settings and credential state; test or validate a spec",
        usage="%(prog)s [ID ...] [--check] [--json]\n"
        "       %(prog)s test ID [--file PATH | --size SIZE]\n"
        "       %(prog)s validate FILE",
    )
    hosts.add_argument(
        "ids",
        nargs="*",
        metavar="ID",
        help="only these hosts; `test ID` uploads a file to ID and prints each step, "
        "`validate FILE` checks a spec file without network",
    )
    hosts.add_argument(
        "--check", action="store_true", help="ask each enabled host about the account"
    )
    hosts.add_argument("--json", action="store_true", help="one JSON document")
    hosts.add_argument("--file", metavar="PATH", help="with `test`: upload this file")
    hosts.add_argument(
        "--size", metavar="SIZE", help="with `test`: size of the generated file (default: 1M)"
    )
    hosts.set_defaults(func=cmd_hosts)

    login = sub.add_parser("login", help="store a host's credentials (keyring, else a 0600 file)")
    login.add_argument("host", metavar="HOST")
    login.add_argument(
        "--no-verify", action="store_true", help="store without asking the host first"
    )
    login.set_defaults(func=cmd_login)

    logout = sub.add_parser("logout", help="remove a host's stored credentials")
    logout.add_argument("host", metavar="HOST")
    logout.set_defaults(func=cmd_logout)
    return parser


class _Subcommands:
    """add_parser with the global options added to every subcommand."""

    def __init__(self, actions: argparse._SubParsersAction, common: argparse.ArgumentParser):
        self._actions = actions
        self._common = common

    def add_parser(self, name: str, **kwargs: object) -> argparse.ArgumentParser:
        return self._actions.add_parser(name, parents=[self._common], **kwargs)


def _upload_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an upload id (a number)") from None
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{text} is not an upload id (see `filehost-tui status`)")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "command", None) in {"retry", "cancel", "pause", "resume"} and (
        args.ids and (args.all or args.failed or args.host)
    ):
        print("filehost-tui: error: give upload ids or a selector, not both", file=sys.stderr)
        return 2
    if args.home is not None and not args.home.strip():
        print("filehost-tui: error: --home is empty; give a folder", file=sys.stderr)
        return 2
    if args.db is not None and not args.db.strip():
        print("filehost-tui: error: --db is empty; give a postgresql:// URL", file=sys.stderr)
        return 2
    ctx = Context(AppPaths.resolve(args.home), db_url=args.db)
    try:
        ctx.config  # noqa: B018 - a malformed config.toml is reported whatever the command
        if args.command is None:
            if not (sys.stdin.isatty() and sys.stderr.isatty()):
                raise UserError(
                    "no terminal to show the TUI on (over ssh, use `ssh -t`); "
                    "`filehost-tui run` uploads without it"
                )
            from filehost_tui.tui.launch import open_tui

            return open_tui(ctx)
        return args.func(ctx, args)
    except UserError as exc:  # it may quote a path: controls and undecodable bytes as \xNN
        print(f"filehost-tui: error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.filename is None:
            raise
        print(
            f"filehost-tui: error: {exc.filename}: {exc.strerror}; "
            "check its permissions or use --home DIR",
            file=sys.stderr,
        )
        return 2
    except (peewee.DatabaseError, sqlite3.DatabaseError) as exc:
        print(f"filehost-tui: error: {ctx.database_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        ctx.close()
