"""What a host says reaches the user as plain, safe text: real uploads to the fake hosts.

A link or file id that could drive a terminal or a forum (control characters, spaces, another
scheme) is a bad reply, never a link; an HTML error page is quoted as its text; a failure after the
host took the file says the file may already be there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from filehost_tui.config import HostSettings
from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.hosts.client import HostClient, UploadResult
from filehost_tui.hosts.spec_loader import load_specs
from filehost_tui.secret import Secret

SPECS = load_specs(None).specs
FAMILY_OF = {
    "catbox": "catbox",
    "gofile": "gofile",
    "0x0": "0x0",
    "keep2share": "k2s",
    "1fichier": "onefichier",
    "filespace": "xfs_session",
    "rapidgator": "rapidgator",
}
CREDENTIALS = {
    "username": "alice@example.invalid",
    "password": "pw-Secret-123",
    "api_key": "apikey-Secret-456",
    "access_token": "access-Secret-789",
}
PYTHON_ERROR_PAGE = """<!DOCTYPE HTML>
<html lang="en">
    <head>
        <meta charset="utf-8">
        <title>Error response</title>
    </head>
    <body>
        <h1>Error response</h1>
        <p>Error code: 501</p>
        <p>Message: Can only POST/PUT to /upload.</p>
        <p>Error code explanation: 501 - Server does not support this operation.</p>
    </body>
</html>
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files") / "sample.bin"
    path.write_bytes(os.urandom(200_000))
    return path


@pytest.fixture
def upload(sample: Path) -> Iterator:
    """upload(host_id, fault kind, **params): a real upload to a fresh fake given that fault."""
    started: list[FakeHost] = []

    def run(host_id: str, kind: str, **params) -> UploadResult | UploadError:
        spec = SPECS[host_id]
        creds = {k: v for k, v in CREDENTIALS.items() if k in spec.credential_fields}
        fake = FakeHost(FAMILY_OF[host_id], credentials=creds).start()
        started.append(fake)
        fake.inject(kind, **params)
        secrets = {k: Secret(v) for k, v in creds.items()}
        client = HostClient(spec, HostSettings(base_url=fake.base_url), secrets)
        try:
            return client.upload(sample, name=sample.name, progress=lambda done, total: False)
        except UploadError as exc:
            return exc

    yield run
    for fake in started:
        fake.stop()
        assert fake.errors == []


def gofile_reply(link: str, file_id: str = "abc123") -> str:
    return json.dumps({"status": "ok", "data": {"downloadPage": link, "id": file_id}})


# --- links and ids that are not plain ---------------------------------------------------------

BAD_PLAIN_LINKS = {
    "terminal title escape": "http://h/x\x1b]0;PWNED\x07.bin",
    "C1 control sequence": "http://h/x\x9b31m.bin",
    "right-to-left override": "http://h/evil\u202egpj.exe",
    "DEL": "http://h/x\x7f.bin",
}


@pytest.mark.parametrize("name", BAD_PLAIN_LINKS)
def test_a_link_with_a_control_character_is_a_bad_response(upload, name: str) -> None:
    error = upload("catbox", "reply", body=BAD_PLAIN_LINKS[name])

    assert isinstance(error, UploadError), f"stored as a link: {error!r}"
    assert error.kind is ErrorKind.BAD_RESPONSE
    assert "not a plain http(s) link" in error.message
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in error.message)


BAD_JSON_LINKS = {
    "javascript scheme": "javascript:alert(document.cookie)//http://h/x",
    "ftp scheme": "ftp://h/x.bin",
    "no host": "http:///x.bin",
    "space": "http://h/x.bin [url=http://evil/]",
    "newline": "http://h/x.bin\nupload 9 completed: forged",
    "no-break space": "http://h/x\u00a0.bin",
}


@pytest.mark.parametrize("name", BAD_JSON_LINKS)
def test_a_link_with_space_or_another_scheme_is_a_bad_response(upload, name: str) -> None:
    error = upload("gofile", "reply", body=gofile_reply(BAD_JSON_LINKS[name]))

    assert isinstance(error, UploadError), f"stored as a link: {error!r}"
    assert error.kind is ErrorKind.BAD_RESPONSE
    assert "\n" not in error.message


@pytest.mark.parametrize("file_id", ["ab\x1b[2Jc", "ab c", "ab\u200fc"])
def test_a_file_id_with_a_control_character_or_space_is_a_bad_response(upload, file_id) -> None:
    error = upload("gofile", "reply", body=gofile_reply("http://h/x.bin", file_id))

    assert isinstance(error, UploadError), f"stored: {error!r}"
    assert error.kind is ErrorKind.BAD_RESPONSE
    assert "file id" in error.message and "\x1b" not in error.message


def test_a_plain_link_with_any_case_of_scheme_is_kept(upload) -> None:
    result = upload("gofile", "reply", body=gofile_reply("HTTPS://h/d/\u00fcber.bin", "X1"))

    assert result == UploadResult(url="HTTPS://h/d/\u00fcber.bin", file_id="X1")


# --- error replies as a person reads them -------------------------------------------------------


def test_an_html_error_page_is_quoted_as_its_text(upload) -> None:
    error = upload("0x0", "reply", status=501, body=PYTHON_ERROR_PAGE, content_type="text/html")

    assert isinstance(error, UploadError)
    assert "Message: Can only POST/PUT to /upload." in error.message
    assert "<" not in error.message and "Error response Error response" not in error.message


@pytest.mark.parametrize("host_id", ["catbox", "keep2share", "1fichier", "filespace", "rapidgator"])
def test_a_host_that_took_the_file_but_sent_no_link_says_it_may_be_there(upload, host_id) -> None:
    error = upload(host_id, "no_link")

    assert isinstance(error, UploadError)
    assert error.kind is ErrorKind.BAD_RESPONSE
    assert f"the file may already be on {SPECS[host_id].name}" in error.message
    assert "a retry may leave a second copy" in error.message


def test_a_failure_before_the_host_took_the_file_does_not_say_so(upload) -> None:
    error = upload("catbox", "status", status=503)

    assert isinstance(error, UploadError) and error.kind is ErrorKind.SERVER
    assert "may already be on" not in error.message
