"""What asking before a large body (`Expect: 100-continue`) costs on loopback, and what it buys.

- cost: one upload at a time through `Transfer.request` (the project's pycurl path) to the sink,
  median ms per upload over --rounds, for three cases: the Expect switched off (the caller sends
  an empty `Expect:`), the default (Expect for bodies from 1 MiB) with a sink that answers
  "100 Continue" at once, and the default with a sink that ignores the Expect (the client sends
  the body when its wait, EXPECT_CONTINUE_WAIT_MS, runs out).
- early refusal: a server that answers 413 on the headers alone and closes the connection at once
  (no lingering read), --tries uploads of 16 MiB with the Expect off and on; how many ended with the
  server's 413 and how many with a network error (which the engine retries, sending the whole body
  again).

    python bench/expect.py [--rounds N] [--tries N]
"""

from __future__ import annotations

import argparse
import collections
import socket
import socketserver
import tempfile
import threading
import time
from pathlib import Path

import checkout  # noqa: F401  (this checkout first on sys.path)
from datafiles import random_file
from sink import Sink
from table import median, print_table

from filehost_tui.errors import UploadError
from filehost_tui.hosts.transfer import EXPECT_CONTINUE_WAIT_MS, Transfer
from filehost_tui.hosts.wire import FilePart

MiB = 1024 * 1024
SIZES = (1 * MiB, 16 * MiB, 256 * MiB)
OFF = {"Expect": ""}  # the caller's own (empty) Expect: nothing is announced, nothing awaited


def upload_ms(transfer: Transfer, url: str, path: Path, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    resp = transfer.request(
        "POST", url + "/", multipart=[FilePart("file", path, path.name)], headers=headers
    )
    took = (time.perf_counter() - started) * 1000
    if resp.status != 200:
        raise RuntimeError(f"sink answered {resp.status}")
    return took


def cost_rows(work: Path, rounds: int) -> list[list[object]]:
    rows = []
    with Sink() as prompt, Sink(answer_expect=False) as deaf:
        transfer = Transfer()
        for size in SIZES:
            path = work / f"{size // MiB}MiB.bin"
            random_file(path, size)
            off, asked, ignored = [], [], []
            for _ in range(rounds):  # interleaved, so a busy moment hits every case alike
                off.append(upload_ms(transfer, prompt.base_url, path, OFF))
                asked.append(upload_ms(transfer, prompt.base_url, path, {}))
                ignored.append(upload_ms(transfer, deaf.base_url, path, {}))
            base = median(off)
            rows.append(
                [
                    f"{size // MiB} MiB",
                    base,
                    median(asked),
                    median(asked) - base,
                    median(ignored),
                    median(ignored) - base,
                ]
            )
        transfer.close()
    return rows


class _Refuser(socketserver.BaseRequestHandler):
    """Reads the request head, answers 413 and closes at once, leaving any body unread."""

    def handle(self) -> None:
        sock: socket.socket = self.request
        head = b""
        while b"\r\n\r\n" not in head:
            more = sock.recv(65536)
            if not more:
                return
            head += more
        body = b'{"value":"file_too_large"}'
        sock.sendall(
            b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        sock.close()  # unread body bytes in the buffer turn this close into a reset


def refusal_rows(work: Path, tries: int) -> list[list[object]]:
    path = work / "16MiB.bin"
    random_file(path, 16 * MiB)
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Refuser)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/api/file/f.bin"
    rows = []
    try:
        for label, headers in (("Expect off", OFF), ("Expect on (default)", {})):
            seen: collections.Counter[str] = collections.Counter()
            transfer = Transfer()
            for _ in range(tries):
                try:
                    resp = transfer.request("PUT", url, body_file=path, headers=headers)
                    seen[f"HTTP {resp.status}"] += 1
                except UploadError as exc:
                    seen[exc.kind.value] += 1
            transfer.close()
            other = tries - seen["HTTP 413"] - seen["network"]
            rows.append([label, tries, seen["HTTP 413"], seen["network"], other])
    finally:
        server.shutdown()
        server.server_close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tries", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-expect-") as tmp:
        work = Path(tmp)
        print_table(
            f"One multipart upload to the loopback sink, ms (median of {args.rounds}); "
            f"EXPECT_CONTINUE_WAIT_MS = {EXPECT_CONTINUE_WAIT_MS}",
            ["size", "no Expect", "Expect, 100 at once", "cost", "Expect ignored", "cost"],
            cost_rows(work, args.rounds),
        )
        print_table(
            "Early 413 and an immediate close, 16 MiB PUT",
            ["client", "tries", "413 returned", "network error", "other"],
            refusal_rows(work, args.tries),
        )


if __name__ == "__main__":
    main()
