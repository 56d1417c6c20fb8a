"""`login HOST` and `logout HOST`: store or remove a host's credentials.

login asks for exactly the fields the host's spec declares, checks them against the host before
anything is written (a wrong password must not replace a working one), and stores them in the OS
keyring when one is usable, else in the private credentials.toml. Secrets are read without echo
from a terminal; from a pipe one line per field, so scripts and tests can feed them.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from filehost_tui.context import Context
from filehost_tui.credentials import (
    NOT_SECRET_FIELDS,
    delete_credentials,
    env_names,
    read_credentials_file,
    store_credentials,
)
from filehost_tui.engine.account_limits import learned_limit, remember_account_limits
from filehost_tui.errors import ErrorKind, UploadError, UserError
from filehost_tui.hosts.client import AccountInfo, HostClient, check_sendable
from filehost_tui.hosts.spec import HostSpec
from filehost_tui.redact import register_secret, scrub
from filehost_tui.secret import Secret


class Prompter:
    """Reads one value per prompt: no echo on a terminal for secrets, plain lines from a pipe.

    Prompts go to stderr so stdout carries only the result.
    """

    def __init__(self, stdin: TextIO, stderr: TextIO) -> None:
        self.stdin = stdin
        self.stderr = stderr

    def ask(self, prompt: str, *, secret: bool) -> str | None:
        """The value typed (without the newline), or None at end of input."""
        if self.stdin.isatty():
            try:
                if secret:
                    return getpass.getpass(prompt, stream=self.stderr)
                self.stderr.write(prompt)
                self.stderr.flush()
                line = self.stdin.readline()
                return line.rstrip("\r\n") if line else None
            except EOFError:
                return None
        line = self.stdin.readline()
        if not line:  # end of input: the error that follows is the only line
            return None
        # a pipe's value is not echoed, so the prompt ends its own line (after the read: nobody
        # types into a pipe, and an empty one must not leave a dangling prompt)
        self.stderr.write(prompt + "\n")
        self.stderr.flush()
        return line.rstrip("\r\n")


def cmd_login(ctx: Context, args: argparse.Namespace) -> int:
    spec = _known_spec(ctx, args.host)
    if not spec.credential_fields:
        raise UserError(f"{spec.name} takes no credentials; nothing to store")
    # A broken credentials.toml is reported before the user types anything.
    read_credentials_file(ctx.paths.credentials_file, check_permissions=False)
    values = read_fields(spec, Prompter(sys.stdin, sys.stderr))
    if spec.auth.kind == "api_key" and spec.auth.credential in values:
        try:
            check_sendable(spec, spec.auth.credential, values[spec.auth.credential])
        except UploadError as exc:
            raise UserError(f"{exc.message}; nothing stored") from None
    info: AccountInfo | None = None
    if not args.no_verify:
        info = _verify(ctx, spec, values)
        if info is None:
            return 1
    where = store_credentials(spec.id, values, ctx.paths)
    if info is not None and info.verified:
        limit = learned_limit(info.max_file_size, spec.max_file_size)
        remember_account_limits(ctx.paths.account_limits, {spec.id: limit})
    place = "the OS keyring" if where == "keyring" else f"{where} (private, mode 600)"
    print(f"{spec.name}: {_verdict(info)}; stored in {place}")
    _note_env_overrides(spec, values)
    return 0


def cmd_logout(ctx: Context, args: argparse.Namespace) -> int:
    host_id = args.host
    spec = ctx.registry.specs.get(host_id)
    fields = spec.credential_fields if spec is not None else _fields_of_unknown(ctx, host_id)
    removed = delete_credentials(host_id, fields, ctx.paths)
    if not removed and spec is None:
        known = ", ".join(sorted(ctx.registry.specs)) or "none"
        raise UserError(f"unknown host {host_id!r} and nothing stored for it; known: {known}")
    name = spec.name if spec is not None else host_id
    print(f"{name}: credentials removed" if removed else f"{name}: no stored credentials")
    still = _set_env_names(host_id, fields, fields)
    if still:
        print(
            f"filehost-tui: note: {', '.join(still)} still set in the environment and used",
            file=sys.stderr,
        )
    return 0


def read_fields(spec: HostSpec, prompter: Prompter) -> dict[str, str]:
    """Ask for each field the spec declares, in its order; required ones may not be empty."""
    values: dict[str, str] = {}
    for field in spec.credential_fields:
        required = field in spec.required_credentials
        label = field.replace("_", " ")
        prompt = f"{spec.name} {label}{'' if required else ' (optional, Enter to skip)'}: "
        value = prompter.ask(prompt, secret=field not in NOT_SECRET_FIELDS)
        if value is None and required:
            order = ", ".join(spec.credential_fields)
            raise UserError(
                f"no input for {label}: type it at the prompt, or pipe one line per field ({order})"
            )
        if not value and required:
            raise UserError(f"{label} is required for {spec.name}; nothing stored")
        if value:
            if field not in NOT_SECRET_FIELDS:
                register_secret(value)
            values[field] = value
    if not values:
        raise UserError(f"no credentials given for {spec.name}; nothing stored")
    return values


def _verify(ctx: Context, spec: HostSpec, values: Mapping[str, str]) -> AccountInfo | None:
    """The account as the host reports it; None (after printing why) if the host could not tell.

    Rejected credentials are bad input (UserError, exit 2); anything else (network, TLS, a 5xx)
    means "could not check", exit 1, and the user may store them unchecked with --no-verify.
    """
    creds = {name: Secret(value) for name, value in values.items()}
    client = HostClient(spec, ctx.config.host(spec.id), creds, ca_bundle=ctx.config.ca_bundle)
    try:
        return client.check_account()
    except UploadError as exc:
        message = " ".join(scrub(exc.message).split())
        if exc.kind is ErrorKind.AUTH:
            raise UserError(
                f"{spec.name} rejected these credentials ({message}); nothing stored"
            ) from None
        print(
            f"filehost-tui: error: could not verify the credentials ({exc.kind}: {message}); "
            f"nothing stored. Fix the problem, or store them unchecked with "
            f"`filehost-tui login {spec.id} --no-verify`",
            file=sys.stderr,
        )
        return None


def _verdict(info: AccountInfo | None) -> str:
    if info is None:
        return "not verified (--no-verify)"
    if not info.verified:
        return "not verified (this host has no account check)"
    parts = ["credentials verified", *info.facts()]
    return ", ".join(parts)


def _known_spec(ctx: Context, host_id: str) -> HostSpec:
    spec = ctx.registry.specs.get(host_id)
    if spec is None:
        raise ctx.registry.unknown_host(host_id)
    return spec


def _fields_of_unknown(ctx: Context, host_id: str) -> tuple[str, ...]:
    """A host whose spec no longer loads: every field name any host uses, and what the file has."""
    names = {f for spec in ctx.registry.specs.values() for f in spec.credential_fields}
    stored = read_credentials_file(ctx.paths.credentials_file, check_permissions=False)
    names.update(stored.get(host_id, {}))
    return tuple(sorted(names))


def _set_env_names(host_id: str, fields: Sequence[str], field_names: Sequence[str]) -> list[str]:
    return [
        name
        for field in fields
        for name in env_names(host_id, field, field_names)
        if os.environ.get(name)
    ]


def _note_env_overrides(spec: HostSpec, values: Mapping[str, str]) -> None:
    overridden = _set_env_names(spec.id, list(values), spec.credential_fields)
    if overridden:
        print(
            f"filehost-tui: note: {', '.join(overridden)} set in the environment and wins over "
            "the stored value",
            file=sys.stderr,
        )
