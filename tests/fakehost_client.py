"""Plain http.client helpers that speak each fake family's protocol, for the fake-host tests.

Deliberately independent of the project's pycurl client: these tests pin the server side to
/work/notes/protocols.md, so a bug on either side shows up as a disagreement, not a shared blind spot.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

BOUNDARY = "----fakehostTestBoundary7MA4YWxkTrZu0gW"
TIMEOUT = 30.0


@dataclass(frozen=True)
class Resp:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


def call(
    method: str,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    body: bytes | Iterable[bytes] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Resp:
    """One request on a fresh connection; redirects are not followed."""
    parts = urlsplit(url)
    target = parts.path or "/"
    query = "&".join(q for q in (parts.query, urlencode(params or {})) if q)
    if query:
        target += "?" + query
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        conn.request(method, target, body=body, headers=dict(headers or {}))
        resp = conn.getresponse()
        return Resp(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def multipart(fields: Mapping[str, str], files: Iterable[tuple[str, str, bytes]]) -> bytes:
    out = bytearray()
    for name, value in fields.items():
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for field, filename, data in files:
        out += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        out += data + b"\r\n"
    out += f"--{BOUNDARY}--\r\n".encode()
    return bytes(out)


def multipart_stream(field: str, filename: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """A multipart body produced piece by piece, for uploads too large to build in memory."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    yield from chunks
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def post_multipart(url: str, fields: Mapping[str, str], files: Iterable[tuple[str, str, bytes]],
                   headers: Mapping[str, str] | None = None) -> Resp:  # fmt: skip
    return call(
        "POST", url, body=multipart(fields, files), headers={**MULTIPART, **(headers or {})}
    )


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


# One full upload per family, following protocols.md; each returns the link the host gave.


def rapidgator_login(base: str, login: str = "u", password: str = "p") -> Resp:
    return call("GET", f"{base}/api/v2/user/login", params={"login": login, "password": password})


def rapidgator_init(base: str, token: str, name: str, data: bytes) -> Resp:
    params = {"token": token, "name": name, "hash": md5(data), "size": str(len(data))}
    return call("GET", f"{base}/api/v2/file/upload", params=params)


def rapidgator_upload(base: str, name: str, data: bytes) -> str:
    token = rapidgator_login(base).json()["response"]["token"]
    upload = rapidgator_init(base, token, name, data).json()["response"]["upload"]
    assert upload["state"] == 0
    assert post_multipart(upload["url"], {}, [("file", name, data)]).status == 200
    info = call("GET", f"{base}/api/v2/file/upload_info",
                params={"token": token, "upload_id": upload["upload_id"]}).json()  # fmt: skip
    assert info["response"]["upload"]["state"] == 2
    return info["response"]["upload"]["file"]["url"]


def k2s_form(base: str, key: str = "k") -> Resp:
    body = json.dumps({"access_token": key}).encode()
    return call("POST", f"{base}/api/v2/getUploadFormData", body=body,
                headers={"Content-Type": "application/json"})  # fmt: skip


def k2s_upload(base: str, name: str, data: bytes) -> str:
    form = k2s_form(base).json()
    resp = post_multipart(
        form["form_action"], form["form_data"], [(form["file_field"], name, data)]
    )
    assert resp.json()["status"] == "success"
    return resp.json()["link"]


def xfs_api_server(base: str, key: str = "k") -> Resp:
    return call("GET", f"{base}/api/upload/server", params={"key": key})


def xfs_api_upload(base: str, name: str, data: bytes, sess_id: str | None = None) -> Resp:
    server = xfs_api_server(base).json()
    fields = {"sess_id": sess_id or server["sess_id"], "utype": "prem"}
    return post_multipart(server["result"], fields, [("file_0", name, data)])


def xfs_session_login(base: str, login: str = "u", password: str = "p") -> Resp:
    form = urlencode({"op": "login", "login": login, "password": password, "redirect": ""})
    return call("POST", f"{base}/", body=form.encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip


def xfs_session_form(base: str, cookie: str) -> Resp:
    return call("GET", f"{base}/", params={"op": "upload_form"}, headers={"Cookie": cookie})


def xfs_session_upload(base: str, name: str, data: bytes) -> str:
    cookie = xfs_session_login(base).headers["set-cookie"].split(";")[0]
    page = xfs_session_form(base, cookie).text
    action = re.search(r'action="([^"]+)"', page).group(1).replace("&amp;", "&")
    sess_id = re.search(r'name="sess_id" value="([^"]+)"', page).group(1)
    fields = {"sess_id": sess_id, "upload_type": "file"}
    result = post_multipart(action, fields, [("file_0", name, data)]).text
    return f"{base}/" + re.search(r'<textarea name="fn">([^<]+)</textarea>', result).group(1)


def onefichier_upload(base: str, name: str, data: bytes) -> str:
    server = call("GET", f"{base}/v1/upload/get_upload_server.cgi",
                  headers={"Authorization": "Bearer k"}).json()  # fmt: skip
    scheme = urlsplit(base).scheme
    resp = post_multipart(f"{scheme}://{server['url']}/upload.cgi?id={server['id']}", {},
                          [("file[]", name, data)])  # fmt: skip
    assert resp.status == 302
    end = call("GET", resp.headers["location"], headers={"JSON": "1"}).json()
    assert end["incoming"] == 0
    return end["links"][0]["download"]


def gofile_upload(base: str, name: str, data: bytes, token: str | None = None) -> Resp:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return post_multipart(f"{base}/uploadfile", {}, [("file", name, data)], headers)


def pixeldrain_upload(base: str, name: str, data: bytes, key: str = "k") -> Resp:
    import base64

    auth = base64.b64encode(f":{key}".encode()).decode()
    return call("PUT", f"{base}/api/file/{quote(name)}", body=data,
                headers={"Authorization": f"Basic {auth}"})  # fmt: skip


def catbox_upload(base: str, name: str, data: bytes, userhash: str = "") -> Resp:
    fields = {"reqtype": "fileupload", "userhash": userhash}
    return post_multipart(f"{base}/user/api.php", fields, [("fileToUpload", name, data)])


def nitroflare_upload(base: str, name: str, data: bytes, user_hash: str = "h") -> Resp:
    server = call("GET", f"{base}/plugins/fileupload/getServer").text.strip()
    return post_multipart(server, {"user": user_hash}, [("files", name, data)])


def zero_x0_upload(base: str, name: str, data: bytes) -> Resp:
    return post_multipart(f"{base}/", {}, [("file", name, data)])
