"""The fake hosts speak every family's protocol (protocols.md) and record what they received."""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import threading
import urllib.request
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from fakehost_client import (
    MULTIPART,
    Resp,
    call,
    catbox_upload,
    gofile_upload,
    k2s_form,
    k2s_upload,
    md5,
    multipart,
    multipart_stream,
    nitroflare_upload,
    onefichier_upload,
    pixeldrain_upload,
    post_multipart,
    rapidgator_init,
    rapidgator_login,
    rapidgator_upload,
    xfs_api_server,
    xfs_api_upload,
    xfs_session_form,
    xfs_session_login,
    xfs_session_upload,
    zero_x0_upload,
)

from filehost_tui.demo import FAMILIES, FakeHost

DATA = os.urandom(300_000) + b"\r\n--" + os.urandom(1000)  # includes a boundary-like prefix


def _link_of(family: str, base: str, name: str, data: bytes) -> str:
    flows: dict[str, Callable[[], str]] = {
        "rapidgator": lambda: rapidgator_upload(base, name, data),
        "k2s": lambda: k2s_upload(base, name, data),
        "xfs_api": lambda: f"{base}/" + xfs_api_upload(base, name, data).json()[0]["file_code"],
        "xfs_session": lambda: xfs_session_upload(base, name, data),
        "onefichier": lambda: onefichier_upload(base, name, data),
        "gofile": lambda: gofile_upload(base, name, data).json()["data"]["downloadPage"],
        "pixeldrain": lambda: f"{base}/u/" + pixeldrain_upload(base, name, data).json()["id"],
        "catbox": lambda: catbox_upload(base, name, data).text,
        "0x0": lambda: zero_x0_upload(base, name, data).text.strip(),
        "nitroflare": lambda: nitroflare_upload(base, name, data).json()["files"][0]["url"],
    }
    return flows[family]()


CREDENTIALS = {
    "rapidgator": {"username": "u", "password": "p"},
    "k2s": {"access_token": "k"},
    "xfs_api": {"api_key": "k"},
    "xfs_session": {"username": "u", "password": "p"},
    "onefichier": {"api_key": "k"},
    "gofile": None,
    "pixeldrain": {"api_key": "k"},
    "catbox": None,
    "0x0": None,
    "nitroflare": {"user_hash": "h"},
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_accepts_an_upload_records_its_md5_and_links_to_itself(family: str) -> None:
    with FakeHost(family, credentials=CREDENTIALS[family]) as fake:
        link = _link_of(family, fake.base_url, "photo album.bin", DATA)
        assert link.startswith(fake.base_url + "/")
        [got] = fake.received
        assert (got.name, got.size, got.md5) == ("photo album.bin", len(DATA), md5(DATA))
        assert fake.upload_attempts == 1
        page = urllib.request.urlopen(link, timeout=10)  # links lead to a page on the fake itself
        assert page.status == 200
        assert fake.errors == []


def test_rapidgator_wrong_password_is_refused_in_the_json_status() -> None:
    with FakeHost("rapidgator", credentials={"username": "u", "password": "p"}) as fake:
        reply = rapidgator_login(fake.base_url, "u", "wrong").json()
        assert reply == {
            "response": None,
            "status": 401,
            "details": "Error: Wrong e-mail or password.",
        }
        assert fake.login_count == 1


def test_rapidgator_known_md5_is_deduplicated_without_a_body() -> None:
    with FakeHost("rapidgator") as fake:
        rapidgator_upload(fake.base_url, "a.bin", DATA)
        token = rapidgator_login(fake.base_url).json()["response"]["token"]
        upload = rapidgator_init(fake.base_url, token, "copy.bin", DATA).json()["response"][
            "upload"
        ]
        assert upload["state"] == 2
        assert upload["file"]["url"].startswith(f"{fake.base_url}/file/")
        assert len(fake.received) == 1 and fake.upload_attempts == 1


def test_rapidgator_rejects_an_unknown_token_and_a_body_that_does_not_match_its_hash() -> None:
    with FakeHost("rapidgator") as fake:
        stale = rapidgator_init(fake.base_url, "nope", "a.bin", DATA).json()
        assert stale["details"] == "Error: Invalid token"
        token = rapidgator_login(fake.base_url).json()["response"]["token"]
        upload = rapidgator_init(fake.base_url, token, "a.bin", DATA).json()["response"]["upload"]
        post_multipart(upload["url"], {}, [("file", "a.bin", DATA[:-1])])
        info = call("GET", f"{fake.base_url}/api/v2/file/upload_info",
                    params={"token": token, "upload_id": upload["upload_id"]}).json()  # fmt: skip
        assert info["response"]["upload"]["state"] == 3
        assert fake.received == []


def test_k2s_needs_the_form_data_echoed_and_a_valid_access_token() -> None:
    with FakeHost("k2s", credentials={"access_token": "k"}) as fake:
        bad = k2s_form(fake.base_url, "wrong")
        assert bad.status == 403 and bad.json()["errorCode"] == 10
        form = k2s_form(fake.base_url).json()
        resp = post_multipart(form["form_action"], {"ajax": "true"}, [("file", "a.bin", DATA)])
        assert resp.json()["status"] == "error"
        assert fake.received == []


def test_xfs_api_sess_id_is_single_use_and_a_wrong_key_is_refused() -> None:
    with FakeHost("xfs_api", credentials={"api_key": "k"}) as fake:
        assert xfs_api_server(fake.base_url, "bad").json() == {"msg": "Wrong auth", "status": 403}
        sess_id = xfs_api_server(fake.base_url).json()["sess_id"]
        first = xfs_api_upload(fake.base_url, "a.bin", DATA, sess_id).json()
        again = xfs_api_upload(fake.base_url, "a.bin", DATA, sess_id).json()
        assert first[0]["file_status"] == "OK"
        assert again == [{"file_code": "undef", "file_status": "Session expired"}]
        assert len(fake.received) == 1


def test_xfs_session_needs_the_login_cookie_and_a_fresh_sess_id() -> None:
    with FakeHost("xfs_session", credentials={"username": "u", "password": "p"}) as fake:
        wrong = xfs_session_login(fake.base_url, "u", "nope")
        assert wrong.status == 200 and "Incorrect Login or Password" in wrong.text
        anonymous = xfs_session_form(fake.base_url, "xfss=forged").text
        assert "op=login" in anonymous and "sess_id" not in anonymous
        login = xfs_session_login(fake.base_url)
        assert login.status == 302 and login.headers["set-cookie"].startswith("xfss=")
        page = xfs_session_form(fake.base_url, login.headers["set-cookie"].split(";")[0]).text
        sess_id = re.search(r'name="sess_id" value="([^"]+)"', page).group(1)
        url = f"{fake.base_url}/cgi-bin/upload.cgi?upload_type=file"
        fields = {"sess_id": sess_id, "upload_type": "file"}
        assert 'name="fn"' in post_multipart(url, fields, [("file_0", "a.bin", DATA)]).text
        assert 'name="fn"' not in post_multipart(url, fields, [("file_0", "a.bin", DATA)]).text
        assert fake.login_count == 2


def test_onefichier_names_itself_as_upload_server_and_refuses_a_bad_key() -> None:
    with FakeHost("onefichier", credentials={"api_key": "k"}) as fake:
        bad = call("GET", f"{fake.base_url}/v1/upload/get_upload_server.cgi",
                   headers={"Authorization": "Bearer wrong"})  # fmt: skip
        assert bad.status == 401
        good = call("GET", f"{fake.base_url}/v1/upload/get_upload_server.cgi",
                    headers={"Authorization": "Bearer k"}).json()  # fmt: skip
        assert good["url"] == f"127.0.0.1:{fake.port}"


def test_gofile_pixeldrain_and_catbox_refuse_wrong_keys() -> None:
    with FakeHost("gofile", credentials={"token": "t"}) as fake:
        assert gofile_upload(fake.base_url, "a", DATA, token="bad").json()["status"] == "error-auth"
        assert gofile_upload(fake.base_url, "a", DATA, token="t").json()["status"] == "ok"
    with FakeHost("pixeldrain", credentials={"api_key": "k"}) as fake:
        resp = pixeldrain_upload(fake.base_url, "a", DATA, key="bad")
        assert resp.status == 401 and resp.json()["value"] == "unauthorized"
    with FakeHost("catbox", credentials={"userhash": "h"}) as fake:
        assert catbox_upload(fake.base_url, "a", DATA, userhash="bad").status == 412
        assert catbox_upload(fake.base_url, "a", DATA, userhash="h").status == 200


def test_0x0_answers_a_plain_text_url_and_a_management_token() -> None:
    with FakeHost("0x0") as fake:
        resp = zero_x0_upload(fake.base_url, "notes.txt", b"hello")
        assert re.fullmatch(re.escape(fake.base_url) + r"/\w+\.txt\n", resp.text)
        assert resp.headers["x-token"]


def test_chunked_request_body_is_streamed_and_hashed() -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    pieces = (data[i : i + 100_000] for i in range(0, len(data), 100_000))
    with FakeHost("0x0") as fake:
        # http.client sends an iterable body without a length as Transfer-Encoding: chunked
        body = multipart_stream("file", "big.bin", pieces)
        resp = call("POST", f"{fake.base_url}/", body=body, headers=MULTIPART)
        assert resp.status == 200
        assert fake.received[0].md5 == hashlib.md5(data).hexdigest()
        assert fake.received[0].size == len(data)


def test_expect_100_continue_is_answered_before_the_body() -> None:
    body = multipart({}, [("file", "a.bin", DATA)])
    with FakeHost("0x0") as fake:
        sock = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
        sock.putrequest("POST", "/")
        for name, value in {**MULTIPART, "Content-Length": str(len(body)),
                            "Expect": "100-continue"}.items():  # fmt: skip
            sock.putheader(name, value)
        sock.endheaders()
        assert sock.sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.send(body)
        assert sock.getresponse().status == 200
        assert fake.received[0].md5 == md5(DATA)


def test_keep_alive_connection_serves_several_requests() -> None:
    with FakeHost("catbox") as fake:
        conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
        for i in range(3):
            body = multipart({"reqtype": "fileupload"}, [("fileToUpload", f"{i}.bin", DATA)])
            conn.request("POST", "/user/api.php", body=body, headers=MULTIPART)
            resp = conn.getresponse()
            assert resp.status == 200 and resp.read().startswith(fake.base_url.encode())
        conn.close()
        assert [r.name for r in fake.received] == ["0.bin", "1.bin", "2.bin"]


def test_concurrent_uploads_are_all_recorded() -> None:
    blobs = [os.urandom(200_000 + i) for i in range(8)]
    with FakeHost("catbox") as fake:
        threads = [
            threading.Thread(target=catbox_upload, args=(fake.base_url, f"{i}.bin", blob))
            for i, blob in enumerate(blobs)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(r.md5 for r in fake.received) == sorted(md5(b) for b in blobs)


def test_unknown_path_is_404_and_unknown_family_is_refused() -> None:
    with FakeHost("gofile") as fake:
        assert call("GET", f"{fake.base_url}/nothing").status == 404
    with pytest.raises(ValueError, match="unknown family"):
        FakeHost("dropbox")


def _captcha_form(base: str) -> dict[str, str]:
    """rand and the code of a fresh login page, read the way a person reads it."""
    page = call("GET", f"{base}/login.html").text
    rand = re.search(r'name="rand" value="([^"]+)"', page).group(1)
    spans = re.findall(r"padding-left:(\d+)px;[^>]*>&#(\d+);", page)
    code = "".join(chr(int(entity)) for _, entity in sorted(spans, key=lambda s: int(s[0])))
    return {"rand": rand, "code": code}


def test_xfs_session_captcha_variant_wants_the_drawn_code_once() -> None:
    options = {"captcha": True, "login_field": "email"}
    with FakeHost("xfs_session", credentials={"username": "u", "password": "p"},
                  options=options) as fake:  # fmt: skip

        def login(fields: dict[str, str]) -> Resp:
            body = urlencode({"op": "login", "email": "u", "password": "p", **fields})
            return call("POST", f"{fake.base_url}/", body=body.encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip

        first = _captcha_form(fake.base_url)
        assert "Wrong captcha" in login({**first, "code": "x"}).text
        assert "Wrong captcha" in login(first).text  # a rand is single use
        assert login(_captcha_form(fake.base_url)).status == 302


def test_nitroflare_refuses_a_wrong_user_hash_and_reads_key_info() -> None:
    creds = {"user_hash": "h", "email": "e", "premium_key": "k"}
    with FakeHost("nitroflare", credentials=creds) as fake:
        refused = nitroflare_upload(fake.base_url, "a.bin", DATA, user_hash="bad").json()
        assert refused == {"files": [{"name": "a.bin", "error": "Invalid user hash"}]}
        info = call("GET", f"{fake.base_url}/api/v2/getKeyInfo",
                    params={"user": "e", "premiumKey": "k"}).json()  # fmt: skip
        assert info["type"] == "success" and info["result"]["status"] == "active"
        assert fake.received == []


def test_a_family_refuses_an_option_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="unknown option 'captcah'"):
        FakeHost("xfs_session", options={"captcah": True})
