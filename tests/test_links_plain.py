"""`links`: the plain form names the item with each URL (an item's volumes together, in order);
`--format urls` keeps the bare list for scripts. The real CLI, run in a subprocess, over real
uploads to fake hosts."""

from __future__ import annotations

import os

from filehost_tui.demo.fake_server import FakeHost
from tests.engine_harness import cli, make_home

SPLIT = 300_000


def test_plain_links_name_their_item_and_urls_stay_bare(tmp_path):
    movie = tmp_path / "Holiday movie.mkv"
    movie.write_bytes(os.urandom(2 * SPLIT + 7))  # three volumes on 0x0
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"n" * 100)
    with FakeHost("0x0") as zx, FakeHost("catbox") as cat:
        paths = make_home(
            tmp_path / "home", {"0x0": zx, "catbox": cat}, {"0x0": f"split_size = {SPLIT}"}
        )
        for path, host in ((movie, "0x0"), (notes, "catbox")):
            assert cli(paths, "add", str(path), "--host", host).returncode == 0
        run = cli(paths, "run", "--until-idle")
        assert run.returncode == 0, run.stderr
    bare = cli(paths, "links", "--format", "urls")
    plain = cli(paths, "links")
    assert (bare.returncode, bare.stderr, plain.returncode, plain.stderr) == (0, "", 0, "")
    urls = bare.stdout.splitlines()
    assert len(urls) == 4 and all(u.startswith("http://127.0.0.1:") for u in urls)
    assert plain.stdout.splitlines() == [
        f"Holiday movie.mkv (part 1/3) (0x0): {urls[0]}",
        f"Holiday movie.mkv (part 2/3) (0x0): {urls[1]}",
        f"Holiday movie.mkv (part 3/3) (0x0): {urls[2]}",
        f"notes.txt (catbox): {urls[3]}",
    ]
    assert cli(paths, "links", "--format", "plain").stdout == plain.stdout


def test_an_unknown_links_format_is_one_line_naming_the_formats(tmp_path):
    paths = make_home(tmp_path / "home", {})
    result = cli(paths, "links", "--format", "names")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert "'plain', 'urls', 'bbcode', 'markdown', 'json'" in result.stderr


def test_urls_is_not_a_template_a_config_can_change(tmp_path):
    paths = make_home(tmp_path / "home", {}, extra='[links]\nurls = "<{url}>"')
    result = cli(paths, "links", "--format", "urls")
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "[links].urls: no such format (templates: plain, bbcode, markdown)" in result.stderr
