"""Helpers for the CLI tests: run `filehost-tui` in a subprocess or in-process, TLS fake hosts.

Subprocesses get a clean environment (no FILEHOST_TUI_* or CA variables from the outside, the null
keyring unless a test picks another) so what they see is only what the test gives them.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from filehost_tui.cli.main import main
from filehost_tui.demo.fake_server import FakeHost

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 120.0
NULL_KEYRING = "keyring.backends.null.Keyring"
_DROPPED = ("CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FILEHOST_TUI_") and k not in _DROPPED
    }
    env["PYTHON_KEYRING_BACKEND"] = NULL_KEYRING
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def cli(
    home: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    umask: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m filehost_tui --home HOME ARGS...` with a clean environment plus `env`."""

    def set_umask() -> None:
        if umask is not None:
            os.umask(umask)

    return subprocess.run(
        [sys.executable, "-m", "filehost_tui", "--home", str(home), *args],
        env=clean_env(env),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=set_umask if umask is not None else None,
    )


def run_main(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    """main() in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


def base_url_env(host_id: str, fake: FakeHost) -> dict[str, str]:
    return {f"FILEHOST_TUI_{host_id.upper()}_BASE_URL": fake.base_url}


def make_self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by itself: its own CA file for ca_bundle."""
    cert, key = directory / "test-ca.pem", directory / "test-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def serve_tls(fake: FakeHost, cert: Path, key: Path) -> FakeHost:
    """Turn a started FakeHost into an HTTPS one (its links and upload URLs become https://).

    The listening socket is wrapped in place; the serve loop keeps its file descriptor, so the
    next accepted connection does the TLS handshake. A client that rejects the certificate makes
    the handshake fail inside accept(), which socketserver ignores, as a real server would.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server = fake._server
    assert server is not None, "start the FakeHost first"
    server.socket = context.wrap_socket(server.socket, server_side=True)
    fake._ctx.base_url = fake.base_url.replace("http://", "https://", 1)
    return fake


def write_config(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def all_paths(root: Path) -> Sequence[Path]:
    return sorted(root.rglob("*"))
