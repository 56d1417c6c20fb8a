"""Sizes and speeds read the same in the CLI's text outputs and in the TUI: binary units written
out (`1.5MiB`, `600KiB/s`), from the one function in units.py."""

from __future__ import annotations

import re

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.tui.app import FilehostApp
from filehost_tui.units import human_size
from tests.engine_harness import cli, make_home
from tests.tui_support import make_session, seed_mid_upload, settle

SIZE = 1536 * 1024  # 1.5MiB everywhere
SPEED = re.compile(r"^\d+(\.\d)?(B|KiB|MiB|GiB)/s$")


def test_status_stats_and_the_tui_write_sizes_and_speeds_alike(tmp_path):
    src = tmp_path / "clip.bin"
    src.write_bytes(b"x" * SIZE)
    with FakeHost("0x0") as fake:
        paths = make_home(tmp_path / "home", {"0x0": fake})
        assert cli(paths, "add", str(src), "--host", "0x0").returncode == 0
        run = cli(paths, "run", "--until-idle")
        assert run.returncode == 0, run.stderr
    status = cli(paths, "status").stdout
    assert " 1.5MiB " in status
    lines = cli(paths, "stats", "--period", "all").stdout.splitlines()
    assert lines[0].split() == ["host", "files", "failed", "bytes", "avg", "peak", "ok%"]
    host, files, failed, size, avg, peak, rate = lines[1].split()
    assert (host, files, failed, size, rate) == ("0x0", "1", "0", "1.5MiB", "100%")
    assert SPEED.match(avg) and SPEED.match(peak), lines[1]
    assert human_size(SIZE) == "1.5MiB"


async def test_the_tui_shows_the_cli_notation(tmp_path):
    session = make_session(tmp_path)
    ids = seed_mid_upload(session, tmp_path / "files")
    app = FilehostApp(session)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert str(app.main.table.get_cell(str(ids["done"]), "size")) == "700MiB"
        assert str(app.main.table.get_cell(str(ids["failed"]), "size")) == "3.0GiB"
    session.db.close()
