"""HTTP transfers over pycurl: one reusable handle per thread, files streamed from disk.

Why pycurl and not a pure-Python client: uploads are multi-GiB and must run at line rate with a
rate limit, a stall detector and a cancel hook, without holding the file in memory. libcurl does all of
that in C; Python only wakes every POLL_INTERVAL, runs the O(1) progress callback and gathers the
small API replies.

Transport failures become UploadError values with a kind (network, timeout, tls, cancelled, ...);
HTTP statuses are returned as Response values and judged by classify.py. Redirects are never
followed: a 3xx comes back as it is. A server that refuses a body early (413, 404, "disk full")
has its answer returned even when it then breaks the connection under the body still being sent.
Messages never name a URL without redact_url(), because query strings carry tokens and API keys.
"""

from __future__ import annotations

import json
import os
import select
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlencode

import pycurl

from filehost_tui import __version__
from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.hosts.curl_errors import transport_error
from filehost_tui.hosts.socket_queue import unsent_bytes
from filehost_tui.hosts.wire import (
    Body,
    BodySource,
    FieldPart,
    FilePart,
    Progress,
    ReplyCollector,
    Response,
    with_params,
)
from filehost_tui.redact import redact_url

__all__ = [
    "Transfer",
    "close_thread_transfers",
    "system_ca_bundle",
    "thread_transfer",
]

UPLOAD_BUFFER = 2 * 1024 * 1024  # libcurl's maximum; fewer, larger socket writes at high speed
USER_AGENT = f"filehost-tui/{__version__}"
POLL_INTERVAL = 0.1  # seconds: the longest a cancel waits for the progress callback to run
# Bodies from this size announce `Expect: 100-continue`, so a server can refuse on the headers alone
# before a byte of the body leaves; below it the body is about one socket buffer, sent at once.
EXPECT_CONTINUE_FROM = 1024 * 1024
EXPECT_CONTINUE_WAIT_MS = 500  # a server that never answers the Expect gets the body after this
# libcurl errors that mean "the connection broke": after one, a refusal the server already sent
# (its status line arrived) is the answer, not the broken pipe it caused.
_BROKEN_CONNECTION = frozenset({pycurl.E_SEND_ERROR, pycurl.E_RECV_ERROR, pycurl.E_PARTIAL_FILE})

# Where distributions keep their CA bundle. Wheels of pycurl ship a libcurl compiled with one
# distribution's path (e.g. /etc/pki/tls/certs/ca-bundle.crt), which does not exist on the others.
SYSTEM_CA_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Arch, Gentoo
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/ssl/cert.pem",  # Alpine, macOS, BSDs
)


def system_ca_bundle() -> str | None:
    """The CA file to use when none is configured: $CURL_CA_BUNDLE / $SSL_CERT_FILE, else the first
    distribution bundle that exists, else None (libcurl's compiled-in default)."""
    for candidate in (os.environ.get("CURL_CA_BUNDLE"), os.environ.get("SSL_CERT_FILE")):
        if candidate and os.path.isfile(candidate):
            return candidate
    return next((p for p in SYSTEM_CA_BUNDLES if os.path.isfile(p)), None)


class Transfer:
    """One pycurl handle, reused for all requests made by one thread. Not thread-safe: one per thread.

    Reusing the handle keeps libcurl's connection cache, DNS cache and TLS sessions, so a login, an
    upload and a poll to one host share a single connection.
    """

    def __init__(
        self,
        *,
        ca_bundle: str | None = None,
        connect_timeout: float = 20.0,
        low_speed_limit: int = 1,
        low_speed_time: int = 60,
    ) -> None:
        self.ca_bundle = ca_bundle
        self.connect_timeout = connect_timeout
        self.low_speed_limit = low_speed_limit
        self.low_speed_time = low_speed_time
        self._curl: pycurl.Curl | None = None
        self._multi: pycurl.CurlMulti | None = None
        self._last_socket = -1  # the connection a next request most likely reuses

    def close(self) -> None:
        """Close the handle and its connections; a later request opens a fresh one."""
        if self._curl is not None:
            self._curl.close()
            self._curl = None
        if self._multi is not None:
            self._multi.close()
            self._multi = None
        self._last_socket = -1

    def _perform(self, curl: pycurl.Curl, call: _ProgressCall) -> None:
        """curl.perform(), but waking at least every POLL_INTERVAL.

        libcurl's own perform() sleeps up to a second while the socket is not writable (a slow
        receiver, a rate limit), and only calls the progress callback when it wakes. Driving the
        handle through a multi handle with a short wait bounds how long a cancel takes. The multi
        handle is kept, so its connection cache (reuse across requests) lives as long as we do.
        """
        if self._multi is None:
            self._multi = pycurl.CurlMulti()
        multi = self._multi
        multi.add_handle(curl)
        try:
            while True:
                _, running = multi.perform()
                if not running:
                    break
                if call.progress is not None:  # getinfo is refused inside perform's callbacks
                    active = curl.getinfo(pycurl.ACTIVESOCKET)  # -1 while still connecting
                    call.socket = active if active >= 0 else call.socket
                _wait(multi, POLL_INTERVAL)
            _, _, failed = multi.info_read()
        finally:
            multi.remove_handle(curl)
            self._last_socket = call.socket
        if failed:
            _, code, message = failed[0]
            raise pycurl.error(code, message)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        json_body: Any = None,
        multipart: Sequence[FieldPart | FilePart] | None = None,
        body_file: Body | None = None,
        basic_auth: tuple[str, str] | None = None,
        progress: Progress | None = None,
        max_send_speed: int = 0,
        timeout: float | None = None,
    ) -> Response:
        """Perform one request. HTTP statuses (3xx included) are returned; transport failures raise
        UploadError, except that a refusal which arrived before the connection broke is returned."""
        bodies = [form is not None, json_body is not None, bool(multipart), body_file is not None]
        if sum(bodies) > 1:
            raise ValueError("give at most one of form, json_body, multipart, body_file")
        full_url = with_params(url, params)
        if self._curl is None:
            self._curl = pycurl.Curl()
        curl = self._curl
        curl.reset()
        sink = ReplyCollector()
        call = _ProgressCall(progress, self._last_socket)
        with ExitStack() as stack:
            self._set_common(curl, full_url, sink, timeout, max_send_speed)
            extra = dict(headers or {})
            call.known_total = self._set_body(
                curl, stack, method.upper(), extra, form, json_body, multipart, body_file, call
            )
            _set_expect(curl, extra, call.known_total)
            curl.setopt(pycurl.HTTPHEADER, _header_lines(extra))
            if basic_auth is not None:
                curl.setopt(pycurl.HTTPAUTH, pycurl.HTTPAUTH_BASIC)
                curl.setopt(pycurl.USERNAME, basic_auth[0])
                curl.setopt(pycurl.PASSWORD, basic_auth[1])
            curl.setopt(pycurl.NOPROGRESS, 0)
            curl.setopt(pycurl.XFERINFOFUNCTION, call)
            curl.setopt(pycurl.SOCKOPTFUNCTION, call.opened)
            try:
                self._perform(curl, call)
            except pycurl.error as exc:
                failure = self._failure(exc, method, full_url, sink, call)
                if failure is not None:
                    raise failure from None
                return sink.response(sink.status, full_url)
        status = int(curl.getinfo(pycurl.RESPONSE_CODE))
        return sink.response(status, curl.getinfo(pycurl.EFFECTIVE_URL) or full_url)

    def _set_common(
        self,
        curl: pycurl.Curl,
        url: str,
        sink: ReplyCollector,
        timeout: float | None,
        max_send_speed: int,
    ) -> None:
        curl.setopt(pycurl.URL, url)
        curl.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.NOSIGNAL, 1)
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(self.connect_timeout * 1000)))
        curl.setopt(pycurl.LOW_SPEED_LIMIT, self.low_speed_limit)
        curl.setopt(pycurl.LOW_SPEED_TIME, self.low_speed_time)
        if timeout is not None:
            curl.setopt(pycurl.TIMEOUT_MS, max(1, int(timeout * 1000)))
        curl.setopt(pycurl.SSL_VERIFYPEER, 1)
        curl.setopt(pycurl.SSL_VERIFYHOST, 2)
        cafile = self.ca_bundle or system_ca_bundle()
        if cafile:
            curl.setopt(pycurl.CAINFO, cafile)
        curl.setopt(pycurl.FOLLOWLOCATION, 0)  # a 3xx is the answer; classify.py says why
        curl.setopt(pycurl.MAX_SEND_SPEED_LARGE, max(0, int(max_send_speed)))
        curl.setopt(pycurl.UPLOAD_BUFFERSIZE, upload_buffer(max_send_speed))
        curl.setopt(pycurl.TCP_KEEPALIVE, 1)
        curl.setopt(pycurl.ACCEPT_ENCODING, "")
        curl.setopt(pycurl.USERAGENT, USER_AGENT)
        curl.setopt(pycurl.HEADERFUNCTION, sink.header)
        curl.setopt(pycurl.WRITEFUNCTION, sink.write)

    def _set_body(
        self,
        curl: pycurl.Curl,
        stack: ExitStack,
        method: str,
        headers: dict[str, str],
        form: Mapping[str, str] | None,
        json_body: Any,
        multipart: Sequence[FieldPart | FilePart] | None,
        body_file: Body | None,
        call: _ProgressCall,
    ) -> int:
        """Configure the method and body; return the upload size when known up front (else 0)."""
        total = 0
        if body_file is not None:
            if isinstance(body_file, BodySource):
                read, seek = _source_callbacks(stack, body_file, call)
                total = body_file.size
            else:
                fh = stack.enter_context(_open_local(body_file))
                total = os.fstat(fh.fileno()).st_size
                read, seek = fh.read, _seeker(fh)
            curl.setopt(pycurl.READFUNCTION, read)
            curl.setopt(pycurl.SEEKFUNCTION, seek)
            if method == "PUT":
                curl.setopt(pycurl.UPLOAD, 1)
                curl.setopt(pycurl.INFILESIZE_LARGE, total)
            else:
                curl.setopt(pycurl.POST, 1)
                curl.setopt(pycurl.POSTFIELDSIZE_LARGE, total)
        elif multipart:
            mime, total = _mime(curl, stack, multipart, call)
            curl.setopt(pycurl.MIMEPOST, mime)
        elif form is not None:
            curl.setopt(pycurl.POSTFIELDS, urlencode(list(form.items())))
        elif json_body is not None:
            curl.setopt(pycurl.POSTFIELDS, json.dumps(json_body))
            headers.setdefault("Content-Type", "application/json")
        elif method == "GET":
            curl.setopt(pycurl.HTTPGET, 1)
            return 0
        elif method == "HEAD":
            curl.setopt(pycurl.NOBODY, 1)
            return 0
        elif method == "POST":
            curl.setopt(pycurl.POSTFIELDS, "")
        expected = "PUT" if body_file is not None and method == "PUT" else "POST"
        if method != expected:
            curl.setopt(pycurl.CUSTOMREQUEST, method)
        return total

    @staticmethod
    def _failure(
        exc: pycurl.error, method: str, url: str, sink: ReplyCollector, call: _ProgressCall
    ) -> BaseException | None:
        """What a failed perform() raises, or None when the server's refusal is the answer.

        A server that refuses a body before reading it (413, 404, 500 "disk full") and closes
        makes the rest of the upload fail with a broken pipe or a reset. Reporting that would
        lose the server's reason and retry the whole body, so a final refusal status that
        arrived first wins. A 2xx never does: the body did not get through whole.
        """
        code, text = exc.args[0], str(exc.args[1]) if len(exc.args) > 1 else ""
        if call.error is not None:
            return call.error  # the caller's progress callback raised: surface its exception
        if call.aborted:
            code = pycurl.E_ABORTED_BY_CALLBACK
        elif sink.overflow:
            where = f"{method.upper()} {redact_url(url)}"
            return UploadError(
                ErrorKind.BAD_RESPONSE, f"{where}: reply larger than {sink.limit} bytes"
            )
        elif code in _BROKEN_CONNECTION and sink.status >= 300:
            return None
        return transport_error(code, text, method, url)


class _ProgressCall:
    """XFERINFOFUNCTION adapter: O(1) per call; remembers why it aborted.

    It reports the bytes the host received: written minus what still waits in the socket's send
    queue (see socket_queue.py), never less than it reported before. The socket is the one libcurl
    opened for this request, or the one it reuses: the last request's, until `_perform` reads the
    active one between two of libcurl's turns."""

    __slots__ = ("progress", "known_total", "aborted", "error", "socket", "sent")

    def __init__(self, progress: Progress | None, socket: int = -1) -> None:
        self.progress = progress
        self.known_total = 0
        self.aborted = False
        self.error: BaseException | None = None
        self.socket = socket
        self.sent = 0

    def opened(self, fd: int, _purpose: int) -> int:
        """SOCKOPTFUNCTION: libcurl made a new connection for this request."""
        self.socket = fd
        return pycurl.SOCKOPT_OK

    def __call__(self, dltotal: int, dlnow: int, ultotal: int, ulnow: int) -> int:
        if self.progress is None:
            return 0
        if ulnow:
            self.sent = max(self.sent, ulnow - unsent_bytes(self.socket))
        try:
            if self.progress(self.sent, ultotal or self.known_total):
                self.aborted = True
                return 1
        except BaseException as exc:  # noqa: BLE001 - re-raised after perform() returns
            self.error = exc
            return 1
        return 0


def upload_buffer(max_send_speed: int) -> int:
    """libcurl's write size: its largest, unless a cap is set; then about an eighth of a second
    of it (at least libcurl's 16 KiB), so the cap also holds over the meter's few seconds instead of
    2 MiB leaving at once ahead of it (docs/architecture.md, 'The speed meter')."""
    if max_send_speed <= 0:
        return UPLOAD_BUFFER
    return max(16 * 1024, min(UPLOAD_BUFFER, max_send_speed // 8))


def _wait(multi: pycurl.CurlMulti, cap: float) -> None:
    """Sleep until a socket of `multi` is ready, its next timer is due, or `cap` seconds pass."""
    due_ms = multi.timeout()
    limit = cap if due_ms < 0 else min(cap, due_ms / 1000)
    if limit <= 0:
        return
    readers, writers, errors = multi.fdset()
    if readers or writers or errors:
        select.select(readers, writers, errors, limit)
    else:  # nothing to watch yet (e.g. name resolution in a thread): libcurl advises a short nap
        time.sleep(min(limit, 0.01))


def _set_expect(curl: pycurl.Curl, headers: dict[str, str], body_size: int) -> None:
    """Ask before sending a large body; never wait for small ones (or where the caller decided).

    Without the Expect, a server that refuses early and closes races the body: libcurl may hit the
    broken pipe before it reads the refusal, and the answer is lost. A server that ignores the
    Expect costs EXPECT_CONTINUE_WAIT_MS once per upload; one that answers it costs a round trip
    (bench/expect.py).
    """
    if any(k.lower() == "expect" for k in headers):
        return
    if body_size >= EXPECT_CONTINUE_FROM:
        headers["Expect"] = "100-continue"
        curl.setopt(pycurl.EXPECT_100_TIMEOUT_MS, EXPECT_CONTINUE_WAIT_MS)
    else:
        headers["Expect"] = ""  # libcurl's own threshold would otherwise decide


def _header_lines(headers: Mapping[str, str]) -> list[str]:
    # "Name:" with nothing after it removes a header libcurl would add itself.
    return [f"{k}: {v}" if v else f"{k}:" for k, v in headers.items()]


def _open_local(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller's ExitStack
    except OSError as exc:
        raise UploadError(ErrorKind.NOT_FOUND, f"cannot read {path}: {exc.strerror}") from None


def _seeker(fh: BinaryIO) -> Callable[[int, int], int]:
    def seek(offset: int, origin: int) -> int:
        try:
            fh.seek(offset, origin)
        except OSError:
            return pycurl.SEEKFUNC_FAIL
        return pycurl.SEEKFUNC_OK

    return seek


def _source_callbacks(
    stack: ExitStack, source: BodySource, call: _ProgressCall
) -> tuple[Callable[[int], bytes | int], Callable[[int, int], int]]:
    """READFUNCTION and SEEKFUNCTION over a generated body. An exception while generating (a
    file changed, or became unreadable) stops the transfer and is what request() raises."""
    reader = source.open()
    stack.callback(reader.close)

    def read(n: int) -> bytes | int:
        try:
            return reader.read(n)
        except BaseException as exc:  # noqa: BLE001 - re-raised after perform() returns
            call.error = exc
            return pycurl.READFUNC_ABORT

    def seek(offset: int, origin: int) -> int:
        if origin != os.SEEK_SET:
            return pycurl.SEEKFUNC_CANTSEEK
        try:
            reader.seek(offset)
        except BaseException as exc:  # noqa: BLE001 - re-raised after perform() returns
            call.error = exc
            return pycurl.SEEKFUNC_FAIL
        return pycurl.SEEKFUNC_OK

    return read, seek


def _mime(
    curl: pycurl.Curl,
    stack: ExitStack,
    parts: Sequence[FieldPart | FilePart],
    call: _ProgressCall,
) -> tuple[pycurl.CurlMime, int]:
    """A MIME body whose file parts libcurl streams from disk or from a generated body, and
    their total size."""
    mime = stack.enter_context(pycurl.CurlMime(curl))
    total = 0
    for part in _checked(parts):
        if isinstance(part, FieldPart):
            mime.add_field(part.name.encode(), part.value.encode())
            continue
        if isinstance(part.path, BodySource):
            read, seek = _source_callbacks(stack, part.path, call)
            total += part.path.size
            piece = mime.addpart()
            piece.name(part.name.encode())
            piece.filename(part.filename.encode())
            piece.type(part.content_type.encode())
            piece.data_cb(part.path.size, _part_read, _part_seek, None, (read, seek))
            continue
        total += part.path.stat().st_size
        mime.add_file(
            part.name.encode(),
            os.fsencode(part.path),
            filename=part.filename.encode(),
            content_type=part.content_type.encode(),
        )
    return mime, total


def _part_read(callbacks: tuple[Callable[..., Any], ...], n: int) -> bytes | int:
    return callbacks[0](n)


def _part_seek(callbacks: tuple[Callable[..., Any], ...], offset: int, origin: int) -> int:
    return callbacks[1](offset, origin)


def _checked(parts: Sequence[FieldPart | FilePart]) -> Iterator[FieldPart | FilePart]:
    for part in parts:
        if isinstance(part, FilePart) and isinstance(part.path, Path) and not part.path.is_file():
            raise UploadError(ErrorKind.NOT_FOUND, f"file not found: {part.path}")
        yield part


_local = threading.local()


def thread_transfer(**kwargs: Any) -> Transfer:
    """The calling thread's reusable Transfer for these settings (Transfer's keyword arguments).

    Threads never share a handle. A thread that alternates between hosts with different settings
    keeps one handle per settings, so neither loses its open connections to the other.
    """
    key = tuple(sorted(kwargs.items()))
    mine: dict[tuple[Any, ...], Transfer] | None = getattr(_local, "transfers", None)
    if mine is None:
        mine = _local.transfers = {}
    if key not in mine:
        mine[key] = Transfer(**kwargs)
    return mine[key]


def close_thread_transfers() -> None:
    """Close the calling thread's handles and the connections they keep open: a long-lived thread
    that is about to end must not leave its keep-alive connections to the garbage collector."""
    for transfer in getattr(_local, "transfers", {}).values():
        transfer.close()
    _local.transfers = {}
