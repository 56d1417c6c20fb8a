"""`hosts validate FILE` and `hosts test ID [--file PATH] [--size 1M]`: for people writing specs.

validate loads a spec file with the app's own loader and no network. test runs one real upload
through the interpreter with an observer attached, printing each request and extraction as it
happens, with secrets masked. A bad spec exits 2 with its file, line and key; a host that refuses
exits 1; a link exits 0. Nothing is deleted afterwards: the output says where the file is.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from filehost_tui.config import env_key
from filehost_tui.context import Context
from filehost_tui.credentials import lookup_credentials
from filehost_tui.errors import UploadError, UserError
from filehost_tui.hosts.client import HostClient, effective_bases
from filehost_tui.hosts.spec import DEFAULT_BASE, HostSpec
from filehost_tui.hosts.spec_loader import load_spec_file
from filehost_tui.hosts.spec_reader import SpecError
from filehost_tui.hosts.trace import RequestSent, TraceEvent
from filehost_tui.printable import printable
from filehost_tui.redact import scrub
from filehost_tui.units import human_size, parse_size

DEFAULT_SIZE = "1M"
VALUE_WIDTH = 200  # longer extracted values (a scraped page, a form) are cut
CHUNK = 1024 * 1024


def cmd_hosts_validate(ctx: Context, args: argparse.Namespace) -> int:
    _no_listing_options(args, "validate")
    if len(args.ids) != 2 or args.file or args.size:
        raise UserError("usage: filehost-tui hosts validate FILE")
    path = Path(args.ids[1])
    spec = _load(path)
    steps = ", ".join(step.name for step in spec.steps)
    print(f"{path}: ok: host {spec.id} ({spec.name}), steps: {steps}")
    if path.resolve().parent != ctx.paths.user_hosts_dir.resolve():
        print(f"to use it, copy it to {ctx.paths.user_hosts_dir}/")
    return 0


def cmd_hosts_test(ctx: Context, args: argparse.Namespace) -> int:
    _no_listing_options(args, "test")
    if len(args.ids) != 2:
        raise UserError("usage: filehost-tui hosts test ID [--file PATH] [--size 1M]")
    host_id = args.ids[1]
    spec = _spec(ctx, host_id)
    client = _client(ctx, spec)
    path, generated = _test_file(ctx, spec, args)
    what = "a generated file" if generated else "file"
    base = effective_bases(spec, ctx.config.host(spec.id))[DEFAULT_BASE]
    _say(f"testing {spec.id} at {scrub(base or '')} with {what} of {human_size(_size(path))}")
    _say(f"  {printable(str(path))}")
    try:
        result = client.upload(
            path, name=path.name, progress=lambda done, total: False, observer=_print_event
        )
    except UploadError as exc:
        print(
            f"filehost-tui: hosts test {spec.id} failed ({exc.kind}): {printable(scrub(exc.message))}",
            file=sys.stderr,
        )
        return 1
    _say(f"link: {printable(scrub(result.url))}")
    if result.file_id:
        _say(f"file id: {printable(scrub(result.file_id))}")
    _say(
        f"nothing was deleted: the upload stays on {spec.id} at the link above, "
        f"and the file sent is {printable(str(path))}"
    )
    return 0


def _no_listing_options(args: argparse.Namespace, command: str) -> None:
    if args.check or args.json:
        raise UserError(f"`hosts {command}` takes no --check or --json")


def _load(path: Path) -> HostSpec:
    """A spec file through the app's loader; its problem becomes a one-line usage error."""
    if not path.is_file():
        raise UserError(f"{path}: no such spec file; give the path of a .toml spec")
    try:
        return load_spec_file(path)
    except SpecError as exc:
        raise UserError(str(exc)) from None


def _spec(ctx: Context, host_id: str) -> HostSpec:
    """The spec that would run, after making sure no user file for this id failed to load: a
    broken override leaves the built-in in place, and testing that instead would mislead."""
    folder = ctx.paths.user_hosts_dir
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        if path.stem == host_id or _declared_id(path) == host_id:
            _load(path)
    spec = ctx.registry.specs.get(host_id)
    if spec is None:
        known = ", ".join(sorted(ctx.registry.specs)) or "none"
        raise UserError(f"unknown host {host_id!r}; known hosts: {known}")
    return spec


def _declared_id(path: Path) -> Any:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")).get("id")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def _client(ctx: Context, spec: HostSpec) -> HostClient:
    """A client with the stored credentials; what is missing locally is a usage error (exit 2),
    so that exit 1 always means the host said no."""
    settings = ctx.config.host(spec.id)
    if effective_bases(spec, settings)[DEFAULT_BASE] is None:
        raise UserError(
            f"no server for host {spec.id}: set base_url for host {spec.id} in config.toml "
            f"(or {env_key(spec.id, 'BASE_URL')})"
        )
    creds = lookup_credentials(spec.id, spec.credential_fields, ctx.paths)
    missing = [f for f in spec.required_credentials if f not in creds]
    if missing:
        hint = " and ".join(env_key(spec.id, f.upper()) for f in missing)
        raise UserError(
            f"no {', '.join(missing)} for {spec.id}: run `filehost-tui login {spec.id}` "
            f"or set {hint}"
        )
    return HostClient(spec, settings, creds, ca_bundle=ctx.config.ca_bundle)


def _test_file(ctx: Context, spec: HostSpec, args: argparse.Namespace) -> tuple[Path, bool]:
    if args.file and args.size:
        raise UserError("give --file or --size, not both")
    if args.file:
        path = Path(args.file).expanduser().absolute()
        if not path.is_file() or not os.access(path, os.R_OK):
            raise UserError(f"{path}: not a readable file; give a file to upload with --file")
        if _size(path) == 0:
            raise UserError(f"{path}: the file is empty; hosts refuse empty files")
        return path, False
    text = args.size or DEFAULT_SIZE
    try:
        size = parse_size(text)
    except ValueError:
        size = 0
    if size <= 0:
        raise UserError(f"--size {text!r} is not a size; write e.g. 1M, 512K or 1048576")
    folder = ctx.paths.cache_dir / "hosts-test"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"filehost-tui-test-{spec.id}-{time.strftime('%Y%m%d-%H%M%S')}.bin"
    with path.open("wb") as fh:  # random bytes: a host that dedupes by MD5 must really receive it
        for start in range(0, size, CHUNK):
            fh.write(os.urandom(min(CHUNK, size - start)))
    return path, True


def _size(path: Path) -> int:
    return path.stat().st_size


def _print_event(event: TraceEvent) -> None:
    if isinstance(event, RequestSent):
        _say(
            f"{event.step}: {event.method} {printable(scrub(event.url))} -> "
            f"{event.status} in {event.seconds:.2f} s"
        )
        return
    for name, value in event.values.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        shown = printable(scrub(f"{name}={text}"))
        _say(f"  {shown[:VALUE_WIDTH]}{'…' if len(shown) > VALUE_WIDTH else ''}")


def _say(line: str) -> None:
    print(line, flush=True)  # as it happens, also when stdout is a pipe
