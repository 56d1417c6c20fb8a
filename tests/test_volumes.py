"""Items larger than a host takes go up as numbered volumes: real engine, fake hosts, real SQLite."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.database import SCHEMA_VERSION, open_database
from filehost_tui.engine.models import FileHostUpload
from filehost_tui.engine.zip_stream import build_archive
from tests.cli_support import run_main
from tests.engine_harness import (
    REPO,
    all_finished,
    cli,
    make_home,
    start_engine,
    upload_all,
    wait_until,
)

SPLIT = 400_000


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def slices(data: bytes, size: int) -> list[bytes]:
    return [data[n : n + size] for n in range(0, len(data), size)]


def gallery(root: Path) -> Path:
    for n, size in enumerate([300_000, 250_000, 400_000, 10]):
        path = root / ("sub" if n % 2 else "") / f"photo {n}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
    return root


def test_a_folder_over_the_split_size_goes_up_as_volumes_that_cat_back_together(tmp_path, capsys):
    folder = gallery(tmp_path / "Trip")
    whole = build_archive(folder, tmp_path / "expected" / "Trip.zip").read_bytes()
    parts = slices(whole, SPLIT)
    assert len(parts) == 3
    with FakeHost("0x0") as zx, FakeHost("catbox") as cat:
        paths = make_home(
            tmp_path / "home", {"0x0": zx, "catbox": cat}, {"0x0": f"split_size = {SPLIT}"}
        )
        upload_all(paths, [folder], ["0x0", "catbox"], timeout=60)
        received = sorted(zx.received, key=lambda f: f.name)
        assert [(f.name, f.size) for f in received] == [
            ("Trip.zip.001", SPLIT),
            ("Trip.zip.002", SPLIT),
            ("Trip.zip.003", len(whole) - 2 * SPLIT),
        ]
        # each part is its slice of the one ZIP, so `cat Trip.zip.*` restores it byte for byte
        assert [f.md5 for f in received] == [md5(p) for p in parts]
        assert [(f.name, f.md5) for f in cat.received] == [("Trip.zip", md5(whole))]

    code, out, _ = run_main(capsys, tmp_path / "home", "links", "--format", "bbcode")
    assert code == 0
    lines = out.splitlines()
    assert [line.split("]", 1)[1] for line in lines] == [
        "Trip (part 1/3) (0x0)[/url]",
        "Trip (part 2/3) (0x0)[/url]",
        "Trip (part 3/3) (0x0)[/url]",
        "Trip (catbox)[/url]",
    ]

    _, out, _ = run_main(capsys, tmp_path / "home", "links", "--format", "json")
    assert [(x["item"], x["volume"], x["volumes"]) for x in json.loads(out)] == [
        ("Trip (part 1/3)", 1, 3),
        ("Trip (part 2/3)", 2, 3),
        ("Trip (part 3/3)", 3, 3),
        ("Trip", 0, 0),
    ]
    _, out, _ = run_main(capsys, tmp_path / "home", "status", "--all")
    names = [line[7:37].rstrip() for line in out.splitlines() if "completed" in line]
    assert names == ["1/3 Trip", "2/3 Trip", "3/3 Trip", "Trip"]  # each volume says which


def test_a_plain_file_over_the_limit_is_split_the_same_way(tmp_path):
    movie = tmp_path / "movie.mkv"
    data = os.urandom(2 * SPLIT + 5)
    movie.write_bytes(data)
    with FakeHost("0x0") as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx}, {"0x0": f"max_file_size = {SPLIT}"})
        upload_all(paths, [movie], ["0x0"], timeout=60)
        received = sorted(zx.received, key=lambda f: f.name)
        assert [f.name for f in received] == ["movie.mkv.001", "movie.mkv.002", "movie.mkv.003"]
        assert [f.md5 for f in received] == [md5(p) for p in slices(data, SPLIT)]


def test_a_reset_in_one_volume_resends_that_volume_only(tmp_path):
    folder = gallery(tmp_path / "Trip")
    whole = build_archive(folder, tmp_path / "expected" / "Trip.zip").read_bytes()
    with FakeHost("0x0") as zx:
        zx.inject("reset", after_bytes=SPLIT // 2)  # the first volume's body is cut once
        settings = {"0x0": f"split_size = {SPLIT}\nmax_connections = 1"}
        paths = make_home(tmp_path / "home", {"0x0": zx}, settings)
        ids = upload_all(paths, [folder], ["0x0"], timeout=60)
        rows = [FileHostUpload.get_by_id(i) for i in ids]
        assert [(r.volume, r.status, r.retry_count) for r in rows] == [
            (1, "completed", 1),
            (2, "completed", 0),
            (3, "completed", 0),
        ]
        assert zx.upload_attempts == 4
        received = sorted(zx.received, key=lambda f: f.name)
        assert [f.md5 for f in received] == [md5(p) for p in slices(whole, SPLIT)]


def test_a_running_volume_shows_which_volume_it_is(tmp_path):
    folder = gallery(tmp_path / "Trip")
    with FakeHost("0x0") as zx:
        settings = {"0x0": f"split_size = {SPLIT}\nmax_connections = 1\nmax_upload_speed = 800000"}
        paths = make_home(tmp_path / "home", {"0x0": zx}, settings)
        engine, _ = start_engine(paths)
        try:
            engine.queue.add([folder], ["0x0"])
            engine.wake()
            wait_until(
                lambda: [a.phase for a in engine.active()] == ["volume 2/3"], 30, "volume 2 to run"
            )
            wait_until(all_finished, 60, "every upload")
        finally:
            engine.stop()


def test_volumes_of_a_folder_changed_since_it_was_queued_fail_clearly(tmp_path):
    folder = gallery(tmp_path / "Trip")
    with FakeHost("0x0") as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx}, {"0x0": f"split_size = {SPLIT}"})
        engine, _ = start_engine(paths)
        engine.stop()
        engine.queue.add([folder], ["0x0"])
        (folder / "new.jpg").write_bytes(b"n" * 100)  # after the volumes were cut
        engine, _ = start_engine(paths)
        try:
            engine.wake()
            wait_until(all_finished, 60, "every upload")
        finally:
            engine.stop()
        rows = list(FileHostUpload.select().order_by(FileHostUpload.volume))
        assert {(r.status, r.error_kind) for r in rows} == {("failed", "not_found")}
        assert rows[0].error_message == (
            f"{folder} changed since it was queued as 3 volumes, which no longer fit "
            "together; restore it, or cancel it and add it again"
        )
        assert zx.received == []


def test_a_database_from_before_volumes_is_migrated(tmp_path):
    path = tmp_path / "queue.db"
    open_database(path).close()
    with sqlite3.connect(path) as conn:  # make it what version 1 wrote
        conn.execute('DROP INDEX "file_host_uploads_item_id_host_name_volume"')
        for column in ("volume", "volumes", "volume_offset"):
            conn.execute(f'ALTER TABLE "file_host_uploads" DROP COLUMN "{column}"')
        conn.execute(
            'CREATE UNIQUE INDEX "file_host_uploads_item_id_host_name" '
            'ON "file_host_uploads" ("item_id", "host_name")'
        )
        conn.execute("UPDATE schema_version SET version = 1")
    conn.close()

    open_database(path).close()

    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchone() == (SCHEMA_VERSION,)
        columns = {row[1] for row in conn.execute('PRAGMA table_info("file_host_uploads")')}
        indexes = {row[1]: row[2] for row in conn.execute('PRAGMA index_list("file_host_uploads")')}
    conn.close()
    assert {"volume", "volumes", "volume_offset"} <= columns
    assert indexes.get("file_host_uploads_item_id_host_name_volume") == 1
    assert "file_host_uploads_item_id_host_name" not in indexes


def test_a_runner_killed_mid_volume_sends_that_volume_again_and_no_other(tmp_path):
    folder = gallery(tmp_path / "Trip")
    whole = build_archive(folder, tmp_path / "expected" / "Trip.zip").read_bytes()
    with FakeHost("0x0") as zx:
        # a client-side cap, so volume 2 is still on the wire when the runner dies
        settings = {"0x0": f"split_size = {SPLIT}\nmax_connections = 1\nmax_upload_speed = 100000"}
        paths = make_home(tmp_path / "home", {"0x0": zx}, settings)
        assert cli(paths, "add", str(folder), "--host", "0x0").returncode == 0
        runner = subprocess.Popen(
            [sys.executable, "-m", "filehost_tui", "--home", str(paths.data_dir), "run"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        try:
            wait_until(lambda: volume_rows(paths)[2][1] > 0, 60, "volume 2 on the wire")
        finally:
            runner.send_signal(signal.SIGKILL)
            runner.wait()
        link_of_1 = volume_rows(paths)[1][2]
        assert volume_rows(paths)[1][0] == "completed" and link_of_1

        done = cli(paths, "run", "--until-idle", timeout=120)

        assert done.returncode == 0, done.stderr
        final = volume_rows(paths)
        assert [final[v][0] for v in (1, 2, 3)] == ["completed"] * 3
        assert final[1][2] == link_of_1
        assert zx.upload_attempts == 4  # volume 2 twice, the others once
        received = sorted(zx.received, key=lambda f: f.name)
        assert [f.name for f in received] == ["Trip.zip.001", "Trip.zip.002", "Trip.zip.003"]
        assert [f.md5 for f in received] == [md5(p) for p in slices(whole, SPLIT)]


def volume_rows(paths) -> dict[int, tuple[str, int, str | None]]:
    """volume -> (status, uploaded bytes, link), read afresh from the database file."""
    with sqlite3.connect(paths.database) as conn:
        found = conn.execute(
            "SELECT volume, status, uploaded_bytes, download_url FROM file_host_uploads"
        ).fetchall()
    conn.close()
    return {v: (status, sent, url) for v, status, sent, url in found}
