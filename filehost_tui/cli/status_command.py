"""`status`: the queue seen from a script or a terminal, streamed page by page.

Without options the text listing shows what needs attention (every unfinished or failed upload)
and the latest finished ones, then says how many more there are; `--json`, `--jsonl` and `--all`
list everything; the filters narrow any of them.
"""

from __future__ import annotations

import argparse
import heapq
import json
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

from filehost_tui.cli.durations import age_seconds
from filehost_tui.cli.output import stream_lines
from filehost_tui.context import Context
from filehost_tui.disabled_hosts import (
    disabled_hosts,
    how_to_enable,
    waiting_reason,
)
from filehost_tui.engine.eta import queue_eta, upload_eta, upload_shares
from filehost_tui.engine.pg_database import is_postgres
from filehost_tui.engine.queue_reads import ATTENTION, HISTORY, UploadFilter, UploadRow
from filehost_tui.engine.states import Status
from filehost_tui.errors import UserError
from filehost_tui.printable import cut, printable
from filehost_tui.units import human_duration, human_size, human_speed

_ENCODER = json.JSONEncoder(ensure_ascii=False)
RECENT = 20
"""Finished uploads the default listing shows after what needs attention."""


def add_status_parser(sub: argparse._SubParsersAction) -> None:
    status = sub.add_parser("status", help="show the queue (what needs attention, and recent)")
    form = status.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help='one JSON document {"uploads": [...]}')
    form.add_argument("--jsonl", action="store_true", help="one JSON object per line")
    status.add_argument(
        "--state",
        action="append",
        choices=[str(s) for s in Status],
        metavar="NAME",
        help="only uploads in this state; repeat for several (pending, uploading, paused, "
        "failed, completed, cancelled)",
    )
    status.add_argument(
        "--host", action="append", metavar="ID", help="only uploads to this host; repeatable"
    )
    status.add_argument(
        "--since", type=age_seconds, metavar="AGE", help="only uploads queued in the last AGE (7d)"
    )
    status.add_argument("--limit", type=_positive, metavar="N", help="only the latest N that match")
    status.add_argument("--all", action="store_true", help="every upload, finished ones too")
    status.set_defaults(func=cmd_status)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a count; give a whole number, 1 or more")
    return int(text)


@dataclass(frozen=True)
class Waits:
    """Why a pending upload cannot start: its host is disabled, or (on a queue shared by several
    runners) only a runner that is not running may take it (docs/architecture.md, 'Runners')."""

    disabled: Collection[str] = ()
    up: Collection[str] | None = None
    """Names of the runners running now; None on a queue only one runner uses."""

    def reason(self, u: UploadRow) -> str | None:
        why = waiting_reason(u.status, u.host, self.disabled)
        if why is None and u.status == "pending" and self.up is not None and u.runner:
            # a runner name is letters, digits, '.', '_' and '-' (runners.check_name)
            return None if u.runner in self.up else f"runner {u.runner} not running"
        return why


def _waits(ctx: Context) -> Waits:
    runners = ctx.runners.all()
    shared = is_postgres(ctx.db) or len(runners) > 1
    up = {r.name for r in runners if r.state == "running"} if shared else None
    return Waits(disabled_hosts(ctx.config), up)


def upload_dict(
    u: UploadRow, shares: Mapping[str, float], waits: Waits = Waits()
) -> dict[str, object]:
    """`shares`: each host's rate per upload sending (see _shares), for `eta_s`;
    `waiting_reason`: why a pending upload cannot start (`host disabled`, `runner NAME not
    running`), or null; `status` stays the state's name."""
    return {
        "id": u.id,
        "item_id": u.item_id,
        "item": u.item,
        "host": u.host,
        "volume": u.volume,
        "volumes": u.volumes,
        "status": u.status,
        "uploaded_bytes": u.uploaded,
        "total_bytes": u.total,
        "retry_count": u.retries,
        "error_kind": u.error_kind,
        "error_message": u.error_message,
        "download_url": u.url,
        "file_id": u.file_id,
        "eta_s": _eta(u, shares),
        "waiting_reason": waits.reason(u),
        # who holds or finished it, and who may take its next attempt (null: any runner)
        "runner": u.ran_by or None,
        "for_runner": u.runner or None,
    }


def _eta(u: UploadRow, shares: Mapping[str, float]) -> float | None:
    if u.status != Status.UPLOADING:
        return None
    eta = upload_eta(u.uploaded, u.total, shares.get(u.host, 0.0))
    return None if eta is None else round(eta, 1)


def text_line(u: UploadRow, shares: Mapping[str, float], waits: Waits = Waits()) -> str:
    pct = 100 * u.uploaded / u.total if u.total else 0.0
    tail = u.url or (f"{u.error_kind}: {u.error_message}" if u.error_message else "")
    name = _name(u)
    waiting = waits.reason(u)
    status = f"waiting: {waiting}" if waiting else u.status
    eta = _eta(u, shares)
    left = f"eta {human_duration(eta)}" if eta is not None else ""
    return (
        f"{u.id:>5}  {name:<30}  {u.host:<11}  {status:<9}  {pct:5.1f}%  {left:<9}  "
        f"{human_size(u.total):>10}  retries {u.retries}  "
        f"{printable(tail)}"
    ).rstrip() + "\n"


def _name(u: UploadRow) -> str:
    """The item in 30 columns: a volume says which first (`2/5 Trip`), so a cut keeps it, and a
    cut ends in `…`."""
    name = printable(f"{u.volume}/{u.volumes} {u.item}" if u.volumes else u.item)
    return cut(name, 30)


def _shares(ctx: Context) -> dict[str, float]:
    """Each host's rate per upload sending, from the meter's latest samples (written by the
    process that uploads): `status` runs no engine of its own."""
    sending = {h: n for (h, s), n in ctx.reads.counts().items() if s == Status.UPLOADING}
    return upload_shares(ctx.metrics.recent_rates(), sending)


def queue_line(ctx: Context) -> str | None:
    """The whole queue's bytes left and time left at the speed now; None while nothing is sent
    (or nothing is left)."""
    rates = ctx.metrics.recent_rates()
    if not rates:
        return None
    left = ctx.reads.bytes_left()
    eta = queue_eta(left, rates)
    if eta is None:
        return None
    speed = human_speed(sum(rates.values()))
    return f"queue: {human_size(sum(left.values()))} left, about {human_duration(eta)} at {speed}"


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    flt = _filter(ctx, args)
    reads = ctx.reads
    if args.limit is not None:
        rows: Iterator[UploadRow] = reversed(reads.newest(flt, args.limit))
    elif flt != UploadFilter() or args.all or args.json or args.jsonl:
        rows = reads.iter_rows(flt)
    else:
        return _attention_and_recent(ctx)
    waits = _waits(ctx)
    shares = _shares(ctx)
    if args.json:
        stream_lines(_json_document(rows, shares, waits))
    elif args.jsonl:
        stream_lines(_ENCODER.encode(upload_dict(u, shares, waits)) + "\n" for u in rows)
    else:
        shown = _Counted(rows, waits.disabled)
        stream_lines(text_line(u, shares, waits) for u in shown)
        if not shown.count:
            print(_nothing(ctx))
        _say_how_to_enable(ctx, shown.waiting)
        _print_queue_line(ctx)
    return 0


def _filter(ctx: Context, args: argparse.Namespace) -> UploadFilter:
    hosts = tuple(dict.fromkeys(args.host or ()))
    if hosts:
        known = set(ctx.registry.specs) | {h for h, _ in ctx.reads.counts()}
        unknown = [h for h in hosts if h not in known]
        if unknown:
            raise UserError(
                f"unknown host {unknown[0]!r}; known hosts: {', '.join(sorted(known)) or 'none'}"
            )
    since = time.time() - args.since if args.since is not None else None
    return UploadFilter(
        statuses=tuple(dict.fromkeys(args.state or ())), hosts=hosts, since_ts=since
    )


def _json_document(
    rows: Iterator[UploadRow], shares: Mapping[str, float], waits: Waits
) -> Iterator[str]:
    """The same document `json.dumps({"uploads": [...]})` would give, written a page at a time
    (one encoder call per page: per row, the call itself cost more than the encoding)."""
    yield '{"uploads": ['
    for n, page in enumerate(_pages(rows)):
        page_dicts = [upload_dict(u, shares, waits) for u in page]
        yield (", " if n else "") + _ENCODER.encode(page_dicts)[1:-1]
    yield "]}\n"


def _pages(rows: Iterator[UploadRow], size: int = 1000) -> Iterator[list[UploadRow]]:
    page: list[UploadRow] = []
    for row in rows:
        page.append(row)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


class _Counted:
    """Pass rows through and count them, so "nothing matched" needs no second query; note the
    hosts of rows that wait because their host is `disabled`."""

    def __init__(self, rows: Iterator[UploadRow], disabled: Collection[str]) -> None:
        self.rows = rows
        self.disabled = disabled
        self.count = 0
        self.waiting: set[str] = set()

    def __iter__(self) -> Iterator[UploadRow]:
        for row in self.rows:
            self.count += 1
            if waiting_reason(row.status, row.host, self.disabled):
                self.waiting.add(row.host)
            yield row


def _say_how_to_enable(ctx: Context, hosts: Collection[str]) -> None:
    for host in sorted(hosts):
        print(
            f"uploads for {host} wait: the host is disabled; "
            + how_to_enable(host, ctx.paths.config_file)
        )


def _runners(ctx: Context) -> None:
    """On a queue shared by several runners, who is there first (docs/architecture.md,
    'Runners'): a stale one stopped beating without saying it stopped."""
    runners = ctx.runners.all()
    if not (is_postgres(ctx.db) or len(runners) > 1):
        return
    now = time.time()
    for r in runners:
        speed = f", {human_speed(r.bytes_per_s)}" if r.state == "running" else ""
        print(
            printable(
                f"runner {r.name} on {r.machine}: {r.state}, {r.active} transfer(s){speed}, "
                f"last heartbeat {max(0, round(now - r.heartbeat_ts))}s ago"
            )
        )


def _attention_and_recent(ctx: Context) -> int:
    reads = ctx.reads
    _runners(ctx)
    recent = reads.newest(UploadFilter(statuses=HISTORY), RECENT)[::-1]
    attention = reads.iter_rows(UploadFilter(statuses=ATTENTION))
    waits = _waits(ctx)
    shown = _Counted(heapq.merge(attention, recent, key=lambda r: r.id), waits.disabled)
    shares = _shares(ctx)
    stream_lines(text_line(u, shares, waits) for u in shown)
    if not shown.count:
        print(_nothing(ctx))
        return 0
    _say_how_to_enable(ctx, shown.waiting)
    more = reads.count(UploadFilter(statuses=HISTORY)) - len(recent)
    if more > 0:
        print(
            f"… and {more} older finished upload(s): `filehost-tui status --all` lists every one, "
            "`--state completed --limit 100` the latest 100"
        )
    _print_queue_line(ctx)
    return 0


def _print_queue_line(ctx: Context) -> None:
    line = queue_line(ctx)
    if line is not None:
        print(line)


def _nothing(ctx: Context) -> str:
    if not ctx.reads.counts():
        return "the queue is empty; add work with `filehost-tui add PATH --host ID`"
    return "no upload matches; `filehost-tui status --all` lists every one"
