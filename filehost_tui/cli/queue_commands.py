"""`add`, `retry|cancel|pause|resume` and `links`: the queue seen from a script."""

from __future__ import annotations

import argparse
import sys

from filehost_tui.cli.output import stream_lines
from filehost_tui.cli.path_list import read_paths
from filehost_tui.config import env_key
from filehost_tui.context import Context
from filehost_tui.disabled_hosts import disabled_hosts, how_to_enable
from filehost_tui.engine.pg_database import is_postgres
from filehost_tui.engine.queue_reads import UploadFilter
from filehost_tui.engine.queue_store import ANY_RUNNER
from filehost_tui.engine.runners import check_name, home_name
from filehost_tui.engine.states import IllegalTransition, Status
from filehost_tui.errors import UserError
from filehost_tui.hosts.client import effective_bases
from filehost_tui.hosts.spec import DEFAULT_BASE
from filehost_tui.links import Link, format_links
from filehost_tui.printable import printable
from filehost_tui.units import human_size


def cmd_add(ctx: Context, args: argparse.Namespace) -> int:
    for host in args.host:
        spec = ctx.registry.specs.get(host)
        if spec is None:
            raise ctx.registry.unknown_host(host)
        if effective_bases(spec, ctx.config.host(host))[DEFAULT_BASE] is None:
            raise UserError(
                f"host {host} has no server: set base_url under [hosts.{host}] in "
                f"{ctx.paths.config_file} (or {env_key(host, 'BASE_URL')})"
            )
    runner = home_name(ctx.paths)  # this home's runner: the paths are local to its machine
    if args.anywhere:
        runner = ANY_RUNNER
    elif args.runner is not None:
        runner = check_name(args.runner, "--runner")
    ids = ctx.control.add(_paths(args), args.host, name=args.name, runner=runner)
    stream_lines(
        printable(f"queued upload {u.id}: {u.item} -> {u.host}") + "\n"
        for u in ctx.reads.rows_by_id(ids)
    )
    disabled = disabled_hosts(ctx.config)
    for host in dict.fromkeys(args.host):
        if host in disabled:
            print(
                f"filehost-tui: warning: host {host} is disabled, so these uploads wait; "
                + how_to_enable(host, ctx.paths.config_file),
                file=sys.stderr,
            )
    if runner != ANY_RUNNER and is_postgres(ctx.db) and not _runner_is_up(ctx, runner):
        print(
            f"filehost-tui: warning: no runner named {runner} is running, so these uploads "
            f"wait until `filehost-tui run --name {runner}` runs; use --anywhere to let any "
            "runner take them",
            file=sys.stderr,
        )
    return 0


def _runner_is_up(ctx: Context, runner: str) -> bool:
    """A runner of that name beats its heartbeat on this database (stale or stopped: not)."""
    return any(r.name == runner and r.state == "running" for r in ctx.runners.all())


def _paths(args: argparse.Namespace) -> list[str]:
    if args.from_file is None:
        if args.nul:
            raise UserError("-0 goes with --from FILE; add --from FILE or drop -0")
        return args.paths
    if args.paths:
        raise UserError("give PATH arguments or --from FILE, not both")
    return read_paths(args.from_file, args.nul)


def cmd_control(ctx: Context, args: argparse.Namespace) -> int:
    """Apply one user action to the selected uploads; illegal ones are reported, not fatal."""
    drain = getattr(args, "drain", False)
    if drain and args.failed:
        raise UserError(
            "--drain pauses uploads that wait, and failed ones wait for nothing; "
            "use --all, --host ID or upload ids"
        )
    ids = ctx.queue.select_ids(ids=args.ids, all_=args.all, failed=args.failed, host=args.host)
    action = "drain" if drain else args.command
    sending = _sending(ctx, ids) if action == "pause" else {}
    changed = skipped = 0
    for upload_id, outcome in ctx.control.apply(action, ids):
        if drain and _running(outcome):
            changed += 1
            print(f"upload {upload_id}: uploading; left to finish")
            continue
        if isinstance(outcome, IllegalTransition):
            skipped += 1
            if args.ids:  # a refusal is an error: stderr, like every exit 2
                print(f"filehost-tui: error: {outcome}; see `filehost-tui status`", file=sys.stderr)
            continue
        changed += 1
        print(f"upload {upload_id}: {outcome}{_resent_note(upload_id, sending)}")
    if not changed and args.ids:
        return 2
    if skipped and not args.ids:
        print(f"{skipped} upload(s) left as they were (nothing to {args.command})")
    if not ids:
        print(f"no upload matches; nothing to {args.command}")
    return 0


def _running(outcome: object) -> bool:
    """A drain's refusal of an upload that is sending: it is left to finish, as asked."""
    return isinstance(outcome, IllegalTransition) and outcome.status == Status.UPLOADING


def _sending(ctx: Context, ids: list[int]) -> dict[int, tuple[int, int]]:
    """(sent, total) of each selected upload that is sending now (a few rows: one per
    connection), read before a pause throws the sent bytes away."""
    wanted = set(ids)
    running = ctx.reads.iter_rows(UploadFilter(statuses=(Status.UPLOADING,)))
    return {u.id: (u.uploaded, u.total) for u in running if u.id in wanted}


def _resent_note(upload_id: int, sending: dict[int, tuple[int, int]]) -> str:
    """What stopping a transfer costs: no host takes the rest of a partial upload
    (docs/architecture.md, 'Pause and drain')."""
    sent, total = sending.get(upload_id, (0, 0))
    if not 0 < sent < total:
        return ""
    return (
        f"; the {human_size(sent)} sent so far is sent again on resume "
        "(`pause --drain` lets running uploads finish)"
    )


def cmd_assign(ctx: Context, args: argparse.Namespace) -> int:
    """`assign IDS --runner NAME | --anywhere`: who takes the next attempt of these uploads."""
    runner = ANY_RUNNER
    if not args.anywhere:
        runner = check_name(args.runner, "--runner")
        if not ctx.runners.known(runner):
            known = ", ".join(r.name for r in ctx.runners.all()) or "none yet"
            raise UserError(
                f"no runner named {runner!r} has run on this database (known: {known}); "
                f"start `filehost-tui run --name {runner}` first, or check the name"
            )
    ids = ctx.queue.select_ids(ids=args.ids)
    ctx.control.assign(ids, runner)
    to = f"runner {runner}" if runner else "any runner"
    for upload_id in ids:
        print(f"upload {upload_id}: assigned to {to}")
    return 0


def cmd_links(ctx: Context, args: argparse.Namespace) -> int:
    completed = UploadFilter(statuses=(Status.COMPLETED,), item_id=args.item)
    # in upload-id order an item's volumes for one host stand together and in order: add
    # creates them one after another
    links = (
        Link(
            u.item_id,
            printable(u.item) + (f" (part {u.volume}/{u.volumes})" if u.volumes else ""),
            u.host,
            printable(u.url),
            printable(u.file_id) if u.file_id else None,
            u.volume,
            u.volumes,
        )
        for u in ctx.reads.iter_rows(completed)
        if u.url
    )
    stream_lines(format_links(links, args.format, ctx.config.links))
    return 0
