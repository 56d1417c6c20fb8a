"""A long history: every command and the TUI over --uploads finished uploads (default 1,000,000).

Builds a home whose database holds N uploads (N/5 items × 5 hosts: 98% completed, 1.9% cancelled,
0.1% failed, plus 20 pending) and one upload_metrics row per finished upload, written with direct
SQL (triggers set aside while inserting, their tables rebuilt after). Then measures, with the real
CLI in a fresh interpreter: time to the first output, total time, CPU time and peak RSS (wait4) of
`status --json`, `status`, `status --all`, `links --format bbcode`, `stats`, `prune --dry-run`, and
`add --from` of --add-paths hard links into an empty home; and the real TUI on a pty (tui_driver.py): first row
painted, `?` answered at first paint, CPU and RSS while idle, and `/` with one old item's name until
that item is painted.

    python bench/scale.py [--uploads N] [--add-paths N] [--idle S] [--home DIR] [--no-tui]

--home DIR keeps the built history for the next run (building 1,000,000 takes about a minute).
It measures the checkout it sits in: for before/after figures, copy it into an older checkout
(`git archive` of the commit, unpacked in /tmp), which then also creates the database's schema.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import checkout  # noqa: F401  (this checkout first on sys.path)
from homes import REPO, cli_env, make_home
from table import print_table

HOSTS = ("0x0", "bench2", "bench3", "bench4", "bench5")
DAY = 86400.0


def build_history(home: Path, uploads: int) -> None:
    """The schema as this checkout creates it, then rows by direct SQL, oldest first, a minute apart."""
    subprocess.run(
        [sys.executable, "-m", "filehost_tui", "--home", str(home), "status"],
        env=cli_env(),
        check=True,
        capture_output=True,
    )
    db = sqlite3.connect(home / "filehost-tui.db", isolation_level=None)
    triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    columns = {r[1] for r in db.execute("PRAGMA table_info(file_host_uploads)")}
    start = time.time() - uploads * 60 / len(HOSTS) - DAY
    items = uploads // len(HOSTS)
    db.execute("BEGIN")
    for name, _ in triggers:
        db.execute(f"DROP TRIGGER {name}")
    db.executemany(
        "INSERT INTO items (id, path, name, kind, total_size, file_count, fingerprint, created_ts)"
        " VALUES (?, ?, ?, 'file', ?, 1, 'x', ?)",
        (
            (
                n + 1,
                f"/srv/media/item-{n:07d}.bin",
                f"item-{n:07d}.bin",
                3_000_000 + n,
                start + 60 * n,
            )
            for n in range(items + 20)
        ),
    )
    seq = ", change_seq" if "change_seq" in columns else ""
    db.executemany(
        "INSERT INTO file_host_uploads (id, item_id, host_name, status, total_bytes, uploaded_bytes,"
        " retry_count, next_attempt_ts, created_ts, finished_ts, download_url, file_id,"
        f" error_kind, error_message{seq}) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?, ?"
        f"{', ?' if seq else ''})",
        _upload_rows(items, start, bool(seq)),
    )
    metric_columns = {r[1] for r in db.execute("PRAGMA table_info(upload_metrics)")}
    if "end_ts" in metric_columns:  # the seed's metrics columns (schema 2 on)
        insert = (
            "INSERT INTO upload_metrics (upload_id, item_id, host_name, status, bytes_uploaded,"
            " total_bytes, duration_seconds, speed_kbps, retry_count, is_retryable,"
            " error_message, start_ts, end_ts, recorded_ts)"
            " VALUES (?, ?, ?, ?, ?, ?, 3.0, ?, 0, 0, NULL, ?, ?, ?)"
        )
        rows = (
            (u, n + 1, HOSTS[h], "success", 3_000_000 + n, 3_000_000 + n,
             (1_000_000.0 + n) / 1024, start + 60 * n + 2, start + 60 * n + 5,
             start + 60 * n + 5)
            for n in range(items)
            for h, u in [(h, n * len(HOSTS) + h + 1) for h in range(len(HOSTS))]
        )  # fmt: skip
    else:
        insert = (
            "INSERT INTO upload_metrics (upload_id, item_id, host_name, status, bytes, duration_s,"
            " bytes_per_s, retry_count, retryable, error_message, finished_ts)"
            " VALUES (?, ?, ?, ?, ?, 3.0, ?, 0, 0, NULL, ?)"
        )
        rows = (
            (u, n + 1, HOSTS[h], "success", 3_000_000 + n, 1_000_000.0 + n, start + 60 * n + 5)
            for n in range(items)
            for h, u in [(h, n * len(HOSTS) + h + 1) for h in range(len(HOSTS))]
        )
    db.executemany(insert, rows)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "upload_counts" in tables:
        db.execute("DELETE FROM upload_counts")
        db.execute(
            "INSERT INTO upload_counts SELECT host_name, status, COUNT(*) FROM file_host_uploads "
            "GROUP BY host_name, status"
        )
    if "item_names" in tables:
        db.execute("INSERT INTO item_names (item_names) VALUES ('rebuild')")
    for _, sql in triggers:
        db.execute(sql)
    db.execute("COMMIT")
    db.close()


def _upload_rows(items: int, start: float, with_seq: bool):
    upload_id = 0
    for n in range(items + 20):
        for h, host in enumerate(HOSTS):
            if n >= items and h:
                continue  # 20 pending uploads to one host, the newest work
            upload_id += 1
            at = start + 60 * n
            k = upload_id % 1000
            status = (
                "pending"
                if n >= items
                else "failed"
                if k == 0
                else "cancelled"
                if k < 20
                else "completed"
            )
            done = status == "completed"
            row = (
                upload_id, n + 1, host, status, 3_000_000 + n, 3_000_000 + n if done else 0, at,
                None if status == "pending" else at + 5,
                f"https://{host}.example/{upload_id:x}" if done else None,
                f"{upload_id:x}" if done else None,
                "server" if status == "failed" else None,
                "HTTP 502 from upload server" if status == "failed" else None,
            )  # fmt: skip
            yield (*row, upload_id) if with_seq else row


def measure(home: Path, *args: str, stdin: bytes | None = None) -> dict[str, float]:
    """First output bytes, total wall time and peak RSS of one CLI command (output discarded)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "filehost_tui", "--home", str(home), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        env=cli_env(),
    )
    if stdin is not None:
        proc.stdin.write(stdin)
        proc.stdin.close()
    first = None
    size = 0
    while chunk := proc.stdout.read1(1 << 16):
        if first is None:
            first = time.monotonic() - started
        size += len(chunk)
    _, status, usage = os.wait4(proc.pid, 0)
    return {
        "first_s": first if first is not None else float("nan"),
        "total_s": time.monotonic() - started,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "out_mb": size / 1e6,
        "exit": os.waitstatus_to_exitcode(status),
    }


def cli_rows(home: Path, add_paths: int, work: Path) -> list[list[object]]:
    rows = []
    for label, args in (
        ("--version (interpreter and imports)", ("--version",)),
        ("status --json", ("status", "--json")),
        ("status (text)", ("status",)),
        ("status --all", ("status", "--all")),
        ("links --format bbcode", ("links", "--format", "bbcode")),
        ("stats", ("stats",)),
        (
            "prune --finished-before 90d --dry-run",
            ("prune", "--finished-before", "90d", "--dry-run"),
        ),
    ):
        m = measure(home, *args)
        rows.append(
            [label, m["first_s"], m["total_s"], m["cpu_s"], m["rss_mb"], m["out_mb"], m["exit"]]
        )
        print(f"  measured {label}: {m['total_s']:.2f} s", file=sys.stderr)
    if add_paths:
        links = work / "links"
        links.mkdir(exist_ok=True)
        names = []
        for i in range(add_paths):
            source = work / f"source-{i // 50_000}.bin"  # a file takes at most 65,000 links
            if not source.exists():
                source.write_bytes(b"x" * 100)
            path = links / f"new-{i:06d}.bin"
            if not path.exists():
                os.link(source, path)
            names.append(str(path))
        listing = ("\n".join(names) + "\n").encode()
        fresh = make_home(work / "add-home", {"bench2": "http://127.0.0.1:9/"})
        m = measure(fresh, "add", "--from", "-", "--host", "bench2", stdin=listing)
        label = f"add --from - ({add_paths} paths)"
        rows.append(
            [label, m["first_s"], m["total_s"], m["cpu_s"], m["rss_mb"], m["out_mb"], m["exit"]]
        )
    return rows


def tui_rows(home: Path, idle: float) -> list[list[object]]:
    from tui_driver import TuiProcess

    db = sqlite3.connect(home / "filehost-tui.db")
    (attention,) = db.execute(
        "SELECT COUNT(*) FROM file_host_uploads WHERE status IN "
        "('pending', 'uploading', 'paused', 'failed')"
    ).fetchone()
    db.close()
    tui = TuiProcess(home, home / f"control-{time.monotonic_ns()}", attention + 1000)
    rows: list[list[object]] = []
    try:
        first, offset = tui.wait_for(b"item-", 0, timeout=300)
        sent, _ = tui.press(b"?")
        answered, offset = tui.wait_for(b"Move in the uploads table", offset, timeout=300)
        rows.append(["TUI: first row on screen", first - tui.started])
        rows.append(["TUI: `?` typed at first paint, answered", answered - sent])
        tui.press(b"\x1b")
        time.sleep(1)
        tui.phase("idle")
        time.sleep(idle)
        tui.phase("filter")
        target = b"item-0000123.bin"
        _, offset = tui.press(b"/")
        _, offset = tui.wait_for(b"filter: words", offset, timeout=120)  # the bar has focus
        sent, offset = tui.press(b"0000123")
        try:
            shown, _ = tui.wait_for(target, offset, timeout=120)
            found = shown - sent
        except RuntimeError:
            found = float("nan")  # not painted within 120 s
        rows.append(["TUI: `/` one old item's name, until painted", found])
        report = tui.stop(timeout=300)
    finally:
        tui.kill()
    phase = report["phases"].get("idle", {})
    rows.append([f"TUI: idle CPU s/s ({idle:.0f} s, after start)", phase.get("cpu_s", 0) / idle])
    rows.append(["TUI: peak RSS MB", report["max_rss"] / 2**20])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=1_000_000)
    parser.add_argument("--add-paths", type=int, default=100_000)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle TUI measured")
    parser.add_argument("--no-tui", action="store_true")
    parser.add_argument(
        "--home", type=Path, help="build the history here, or reuse the one built here before"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="filehost-scale-") as tmp:
        work = Path(tmp)
        home = args.home or work / "home"
        if not (home / "filehost-tui.db").exists():
            make_home(home, {h: "http://127.0.0.1:9/" for h in HOSTS})
            t0 = time.monotonic()
            build_history(home, args.uploads)
            took = f"built in {time.monotonic() - t0:.0f} s"
        else:
            took = "reused"
        size = (home / "filehost-tui.db").stat().st_size / 2**20
        print(f"{args.uploads} uploads, {took} ({size:.0f} MiB database)")
        tui = [] if args.no_tui else tui_rows(home, args.idle)
        cli = cli_rows(home, args.add_paths, work)
    print_table(
        f"CLI over {args.uploads} uploads ({REPO})",
        ["command", "first output s", "total s", "CPU s", "peak RSS MB", "output MB", "exit"],
        cli,
    )
    if tui:
        print_table(f"TUI over {args.uploads} uploads", ["what", "figure"], tui)
    return 0


if __name__ == "__main__":
    sys.exit(main())
