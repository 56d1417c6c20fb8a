"""`add`, `status`, `retry|cancel|pause|resume` and `links`: the queue seen from a script."""

from __future__ import annotations

import argparse
import json

from filehost_tui.cli.context import Context
from filehost_tui.config import env_key
from filehost_tui.engine.archive_cache import sweep_archives
from filehost_tui.engine.doorbell import ring
from filehost_tui.engine.models import FileHostUpload
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
        if spec is not None and effective_bases(spec, ctx.config.host(host))[DEFAULT_BASE] is None:
            raise UserError(
                f"host {host} has no server: set base_url under [hosts.{host}] in "
                f"{ctx.paths.config_file} (or {env_key(host, 'BASE_URL')})"
            )
    ids = ctx.queue.add(args.paths, args.host, name=args.name)
    ring(ctx.paths)
    for upload in ctx.queue.uploads(ids=ids):
        print(printable(f"queued upload {upload.id}: {upload.item.name} -> {upload.host_name}"))
    return 0


def upload_dict(u: FileHostUpload) -> dict[str, object]:
    return {
        "id": u.id,
        "item_id": u.item.id,
        "item": u.item.name,
        "host": u.host_name,
        "status": u.status,
        "uploaded_bytes": u.uploaded_bytes,
        "total_bytes": u.total_bytes,
        "retry_count": u.retry_count,
        "error_kind": u.error_kind,
        "error_message": u.error_message,
        "download_url": u.download_url,
        "file_id": u.file_id,
    }


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    uploads = ctx.queue.uploads()
    if args.json:
        print(json.dumps({"uploads": [upload_dict(u) for u in uploads]}, ensure_ascii=False))
        return 0
    if not uploads:
        print("the queue is empty; add work with `filehost-tui add PATH --host ID`")
        return 0
    for u in uploads:
        pct = 100 * u.uploaded_bytes / u.total_bytes if u.total_bytes else 0.0
        tail = u.download_url or (f"{u.error_kind}: {u.error_message}" if u.error_message else "")
        name = printable(u.item.name)[:30]
        print(
            f"{u.id:>5}  {name:<30}  {u.host_name:<11}  {u.status:<9}  {pct:5.1f}%  "
            f"{human_size(u.total_bytes):>10}  retries {u.retry_count}  {printable(tail)}".rstrip()
        )
    return 0


def cmd_control(ctx: Context, args: argparse.Namespace) -> int:
    """Apply one user action to the selected uploads; illegal ones are reported, not fatal."""
    ids = ctx.queue.select_ids(ids=args.ids, all_=args.all, failed=args.failed, host=args.host)
    action = getattr(ctx.queue, args.command)
    changed = skipped = 0
    for upload_id in ids:
        try:
            new = action(upload_id)
        except IllegalTransition as exc:
            skipped += 1
            if args.ids:
                print(f"upload {upload_id}: {exc}")
            continue
        changed += 1
        print(f"upload {upload_id}: {new}")
    ring(ctx.paths)
    if args.command == "cancel" and changed:
        sweep_archives(ctx.paths.archives_dir, keep_archives=ctx.config.limits.keep_archives)
    if not changed and args.ids:
        return 2
    if skipped and not args.ids:
        print(f"{skipped} upload(s) left as they were (nothing to {args.command})")
    if not ids:
        print(f"no upload matches; nothing to {args.command}")
    return 0


def cmd_links(ctx: Context, args: argparse.Namespace) -> int:
    uploads = ctx.queue.uploads(item_id=args.item)
    links = [
        Link(u.item.id, printable(u.item.name), u.host_name, u.download_url, u.file_id)
        for u in uploads
        if u.status == Status.COMPLETED and u.download_url
    ]
    text = format_links(links, args.format, ctx.config.links)
    if text:
        print(text)
    return 0
