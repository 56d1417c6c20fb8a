"""Built-in specs against their fake families: a HostClient pointed at a FakeHost on 127.0.0.1.

Every built-in spec runs unchanged; only its base_url is pointed at the fake (named bases follow).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from filehost_tui.config import HostSettings
from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.errors import UploadError
from filehost_tui.hosts.client import HostClient, UploadResult
from filehost_tui.hosts.spec import HostSpec
from filehost_tui.hosts.spec_loader import load_specs
from filehost_tui.secret import Secret

FAMILY_OF = {
    "rapidgator": "rapidgator",
    "keep2share": "k2s",
    "fileboom": "k2s",
    "tezfiles": "k2s",
    "katfile": "xfs_api",
    "filespace": "xfs_session",
    "1fichier": "onefichier",
    "gofile": "gofile",
    "pixeldrain": "pixeldrain",
    "catbox": "catbox",
    "0x0": "0x0",
    "filedot": "xfs_session",
    "filejoker": "xfs_session",
    "ddownload": "xfs_api",
    "sendcm": "xfs_api",
    "nitroflare": "nitroflare",
}
# The variant of its family each host's fake speaks (Family.defaults lists the options).
FAKE_OPTIONS: dict[str, dict[str, Any]] = {
    "filedot": {"captcha": True, "session_upload": True},
    "filejoker": {"login_field": "email"},
}
CREDENTIALS = {
    "username": "alice@example.invalid",
    "password": "pw-Secret-123",
    "api_key": "apikey-Secret-456",
    "access_token": "access-Secret-789",
    "token": "gofile-Secret-000",
    "userhash": "userhash-Secret-111",
    "user_hash": "userhash-Secret-222",
    "email": "bob@example.invalid",
    "premium_key": "premium-Secret-333",
}
SPECS = load_specs(None).specs


def never_cancel(done: int, total: int) -> bool:
    return False


def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files") / "sample file.bin"
    path.write_bytes(os.urandom(2 * 1024 * 1024 + 123))
    return path


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def request_steps(fake: FakeHost) -> list[str]:
    """The protocol steps of the requests the fake saw, in order (logged before each answer)."""
    return [r.step for r in fake.requests]


class Host:
    """A fake family plus a HostClient for one built-in spec pointed at it."""

    def __init__(
        self, host_id: str, options: dict[str, Any] | None = None, **settings: Any
    ) -> None:
        self.spec: HostSpec = SPECS[host_id]
        self.creds = {k: v for k, v in CREDENTIALS.items() if k in self.spec.credential_fields}
        options = {**FAKE_OPTIONS.get(host_id, {}), **(options or {})}
        self.fake = FakeHost(FAMILY_OF[host_id], credentials=self.creds, options=options).start()
        self.settings = HostSettings(base_url=self.fake.base_url, **settings)
        self.client = self.make_client()

    def make_client(self, creds: dict[str, str] | None = None) -> HostClient:
        given = self.creds if creds is None else creds
        secrets = {k: Secret(v) for k, v in given.items()}
        return HostClient(self.spec, self.settings, secrets)

    def upload(self, path: Path, **kwargs: Any) -> UploadResult:
        kwargs.setdefault("progress", never_cancel)
        return self.client.upload(path, name=path.name, **kwargs)

    def failure(self, path: Path, **kwargs: Any) -> UploadError:
        with pytest.raises(UploadError) as caught:
            self.upload(path, **kwargs)
        message = str(caught.value)
        for secret in self.creds.values():
            assert secret not in message
        return caught.value


@contextmanager
def host_factory() -> Iterator[Callable[..., Host]]:
    """`make(host_id, options=None, **settings)` -> a started Host; every fake is stopped after,
    and none may have raised inside."""
    made: list[Host] = []

    def make(host_id: str, options: dict[str, Any] | None = None, **settings: Any) -> Host:
        made.append(Host(host_id, options, **settings))
        return made[-1]

    yield make
    for h in made:
        h.fake.stop()
        assert h.fake.errors == []
