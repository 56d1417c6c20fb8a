"""`hosts [ID...] [--check] [--json]`: which hosts exist, which are usable, and what they report.

Without --check nothing goes over the network: the listing says where each host's credentials come
from (never a value) and which server it would talk to, so a user can see a forgotten
FILEHOST_TUI_<HOST>_BASE_URL or a missing login at a glance. With --check each enabled host with
credentials is asked who we are (login or account step), in parallel, and what it reports.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace

from filehost_tui.cli.spec_commands import cmd_hosts_test, cmd_hosts_validate
from filehost_tui.config import env_key
from filehost_tui.context import Context
from filehost_tui.credentials import credential_state, lookup_credentials
from filehost_tui.engine.account_limits import learned_limit, remember_account_limits
from filehost_tui.errors import UploadError, UserError
from filehost_tui.hosts.client import AccountInfo, HostClient, effective_bases
from filehost_tui.hosts.spec import DEFAULT_BASE, HostSpec
from filehost_tui.redact import scrub

CHECK_THREADS = 8
SPEC_COMMANDS = {"test": cmd_hosts_test, "validate": cmd_hosts_validate}


@dataclass(frozen=True)
class HostCheck:
    """What `--check` learned about one host. `status`: ok, failed or not_checked."""

    status: str
    error_kind: str | None = None
    message: str | None = None
    verified: bool | None = None
    premium: bool | None = None
    storage_left: int | None = None
    max_file_size: int | None = None


@dataclass(frozen=True)
class HostRow:
    """One host as `hosts --json` shows it (keys are stable, new ones may be added)."""

    id: str
    name: str
    family: str
    builtin: bool
    source: str | None
    enabled: bool
    credentials: str
    credential_fields: list[str]
    required_credentials: list[str]
    base_url: str | None
    max_file_size: int | None
    max_connections: int
    check: HostCheck | None = None


def cmd_hosts(ctx: Context, args: argparse.Namespace) -> int:
    spec_command = SPEC_COMMANDS.get(args.ids[0]) if args.ids else None
    if spec_command is not None:
        return spec_command(ctx, args)
    if args.file or args.size:
        raise UserError("--file and --size go with `hosts test ID`")
    for problem in ctx.registry.errors:
        print(f"filehost-tui: warning: {problem}", file=sys.stderr)
    specs = _selected_specs(ctx, args.ids)
    rows = [_row(ctx, spec) for spec in specs]
    if args.check:
        rows = _with_checks(ctx, specs, rows)
        _remember_limits(ctx, specs, rows)
    if args.json:
        document = {"hosts": [asdict(r) for r in rows], "errors": list(ctx.registry.errors)}
        print(json.dumps(document, ensure_ascii=False))
    else:
        _print_table(rows)
    return 1 if any(r.check is not None and r.check.status == "failed" for r in rows) else 0


def _selected_specs(ctx: Context, ids: Sequence[str]) -> list[HostSpec]:
    specs = ctx.registry.specs
    unknown = [i for i in ids if i not in specs]
    if unknown:
        known = ", ".join(sorted(specs)) or "none"
        raise UserError(f"unknown host {unknown[0]!r}; known hosts: {known}")
    return [specs[i] for i in (dict.fromkeys(ids) if ids else sorted(specs))]


def _row(ctx: Context, spec: HostSpec) -> HostRow:
    settings = ctx.config.host(spec.id)
    state = credential_state(spec.id, spec.credential_fields, spec.required_credentials, ctx.paths)
    return HostRow(
        id=spec.id,
        name=spec.name,
        family=spec.family,
        builtin=spec.builtin,
        source=None if spec.builtin or spec.source is None else str(spec.source),
        enabled=settings.enabled,
        credentials=state,
        credential_fields=list(spec.credential_fields),
        required_credentials=list(spec.required_credentials),
        base_url=effective_bases(spec, settings)[DEFAULT_BASE],
        max_file_size=spec.max_file_size,
        max_connections=max(1, settings.max_connections or spec.max_connections),
    )


def _with_checks(ctx: Context, specs: list[HostSpec], rows: list[HostRow]) -> list[HostRow]:
    with ThreadPoolExecutor(max_workers=CHECK_THREADS, thread_name_prefix="check") as pool:
        checks = list(pool.map(lambda pair: _check(ctx, *pair), zip(specs, rows, strict=True)))
    return [replace(r, check=c) for r, c in zip(rows, checks, strict=True)]


def _remember_limits(ctx: Context, specs: list[HostSpec], rows: list[HostRow]) -> None:
    """What the accounts said they take, for the next `add` to cut volumes by (see
    engine/account_limits.py); a host that was not checked keeps what it had."""
    learned = {
        spec.id: learned_limit(row.check.max_file_size, spec.max_file_size)
        for spec, row in zip(specs, rows, strict=True)
        if row.check is not None and row.check.status == "ok" and row.check.verified
    }
    if learned:
        remember_account_limits(ctx.paths.account_limits, learned)


def _check(ctx: Context, spec: HostSpec, row: HostRow) -> HostCheck:
    """Ask the host whether the stored credentials work; never raises for the host's answer."""
    if not row.enabled:
        return HostCheck("not_checked", message="disabled in config.toml")
    if row.base_url is None:
        return HostCheck(
            "not_checked",
            message=f"no server: set base_url for host {spec.id} in config.toml "
            f"(or {env_key(spec.id, 'BASE_URL')})",
        )
    if row.credentials == "missing":
        return HostCheck(
            "not_checked", message=f"no credentials: run `filehost-tui login {spec.id}`"
        )
    creds = lookup_credentials(spec.id, spec.credential_fields, ctx.paths)
    client = HostClient(spec, ctx.config.host(spec.id), creds, ca_bundle=ctx.config.ca_bundle)
    try:
        info = client.check_account()
    except UploadError as exc:
        return HostCheck("failed", error_kind=str(exc.kind), message=scrub(exc.message))
    return HostCheck(
        "ok",
        verified=info.verified,
        premium=info.premium,
        storage_left=info.storage_left,
        max_file_size=info.max_file_size,
    )


def _print_table(rows: list[HostRow]) -> None:
    if not rows:
        print("no hosts; add a spec file to the hosts/ folder next to config.toml")
        return
    # columns as wide as their longest value: a name is never cut (a user's spec may be long)
    id_w = max(12, *(len(r.id) for r in rows))
    name_w = max(14, *(len(r.name) for r in rows))
    print(f"{'ID':<{id_w}} {'NAME':<{name_w}} {'ENABLED':<8} {'CREDENTIALS':<12} BASE URL")
    for r in rows:
        base = r.base_url or "(none: set base_url in config.toml)"
        print(
            f"{r.id:<{id_w}} {r.name:<{name_w}} {'yes' if r.enabled else 'no':<8} "
            f"{r.credentials:<12} {base}"
        )
        if r.check is not None:
            print(f"{'':<{id_w}} check: {_describe(r.check)}")


def _describe(check: HostCheck) -> str:
    if check.status == "not_checked":
        return f"not checked ({check.message})"
    if check.status == "failed":
        return f"FAILED {check.error_kind}: {check.message}"
    if not check.verified:
        return "nothing to verify: this host has no account check"
    facts = AccountInfo(check.premium, check.storage_left, check.max_file_size).facts()
    parts = ["credentials ok", *facts]
    return ", ".join(parts)
