"""`status` and `links` over a long history: filters, the default "what needs attention" listing,
unchanged document shapes, and memory that does not grow with the number of rows."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import time
import tracemalloc
from pathlib import Path

import pytest

from filehost_tui.cli.main import main
from filehost_tui.engine.database import open_database
from filehost_tui.engine.models import FileHostUpload
from filehost_tui.paths import AppPaths
from tests.test_queue_reads import fill


def make_home(tmp_path: Path, count: int, name: str = "home") -> Path:
    home = tmp_path / name
    db = open_database(AppPaths.resolve(str(home)).database)
    try:
        fill(db, count, start_ts=time.time() - count)
    finally:
        db.close()
    return home


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return make_home(tmp_path, 60)  # 180 uploads: 45 of each status


def run(home: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


def rows_where(**match) -> list[FileHostUpload]:
    return [
        r
        for r in FileHostUpload.select().order_by(FileHostUpload.id)
        if all(getattr(r, k) in v for k, v in match.items())
    ]


def test_default_status_shows_what_needs_attention_and_the_latest_finished(home, capsys):
    code, out, _ = run(home, capsys, "status")
    assert code == 0
    lines = out.splitlines()
    ids = [int(line.split()[0]) for line in lines[:-1]]
    assert ids == sorted(ids)
    statuses = [line.split()[3] for line in lines[:-1]]
    assert statuses.count("pending") == 45 and statuses.count("failed") == 45
    assert statuses.count("completed") + statuses.count("cancelled") == 20
    assert lines[-1].startswith("… and 70 older finished upload(s): `filehost-tui status --all`")


def test_status_json_keeps_its_document_and_filters_narrow_it(home, capsys):
    """The filters' results are checked against the rows themselves, read with the models."""
    code, out, _ = run(home, capsys, "status", "--json")
    document = json.loads(out)
    assert code == 0 and out == json.dumps(document, ensure_ascii=False) + "\n"
    assert len(document["uploads"]) == 180
    assert set(document["uploads"][0]) == {
        "id", "item_id", "item", "host", "status", "uploaded_bytes", "total_bytes",
        "retry_count", "error_kind", "error_message", "download_url", "file_id",
        "volume", "volumes",  # added with split volumes
        "waiting_reason",  # added: why a pending upload cannot start (its host is disabled)
        "eta_s",  # added with the speed meter
        "runner", "for_runner",  # added with runners by name
    }  # fmt: skip

    _, out, _ = run(home, capsys, "status", "--jsonl", "--state", "failed", "--host", "beta")
    got = [json.loads(line)["id"] for line in out.splitlines()]
    assert got == [r.id for r in rows_where(status={"failed"}, host_name={"beta"})]

    _, out, _ = run(home, capsys, "status", "--json", "--state", "completed", "--limit", "5")
    got = [u["id"] for u in json.loads(out)["uploads"]]
    assert got == [r.id for r in rows_where(status={"completed"})][-5:]

    _, out, _ = run(home, capsys, "status", "--all")
    assert len(out.splitlines()) == 180

    day = 86400
    FileHostUpload.update(created_ts=FileHostUpload.created_ts - day).where(
        FileHostUpload.id <= 90
    ).execute()  # half the history was queued yesterday
    _, out, _ = run(home, capsys, "status", "--since", "1h", "--json")
    assert [u["id"] for u in json.loads(out)["uploads"]] == list(range(91, 181))

    _, out, _ = run(home, capsys, "status", "--host", "gamma", "--state", "paused")
    assert out == "no upload matches; `filehost-tui status --all` lists every one\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--host", "nosuch"), "unknown host 'nosuch'; known hosts: "),
        (("--since", "yesterday"), "'yesterday' is not an age; write a number and a unit"),
        (("--limit", "0"), "'0' is not a count; give a whole number, 1 or more"),
        (("--state", "done"), "argument --state: invalid choice: 'done'"),
        (("--json", "--jsonl"), "not allowed with argument"),
    ],
)
def test_bad_status_options_are_one_line_errors(home, capsys, args, message):
    try:
        code = main(["--home", str(home), "status", *args])
    except SystemExit as exc:  # argparse's own checks end the process
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("filehost-tui: error: ") and message in err


def test_links_stream_in_every_format_unchanged(home, capsys):
    completed = rows_where(status={"completed"})
    _, out, _ = run(home, capsys, "links", "--format", "json")
    links = json.loads(out)
    assert out == json.dumps(links, ensure_ascii=False, indent=2) + "\n"
    assert [(x["item_id"], x["host"]) for x in links] == [
        (r.item_id, r.host_name) for r in completed
    ]
    _, out, _ = run(home, capsys, "links", "--format", "bbcode")
    first = completed[0]
    assert out.splitlines()[0] == (
        f"[url={first.download_url}]file-{first.item_id - 1:05d}.bin ({first.host_name})[/url]"
    )
    assert len(out.splitlines()) == len(completed)
    _, out, _ = run(home, capsys, "links", "--item", str(first.item_id))
    assert out == f"file-{first.item_id - 1:05d}.bin ({first.host_name}): {first.download_url}\n"
    _, out, _ = run(home, capsys, "links", "--item", str(first.item_id), "--format", "urls")
    assert out == f"{first.download_url}\n"


def test_links_json_of_nothing_is_an_empty_array(tmp_path, capsys):
    assert main(["--home", str(tmp_path / "empty"), "links", "--format", "json"]) == 0
    assert capsys.readouterr().out == "[]\n"


def peak_bytes(home: Path, args: list[str]) -> int:
    """Peak Python memory of one command, its output going to /dev/null (captured output would
    be counted as the command's)."""
    gc.collect()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        tracemalloc.start()
        try:
            assert main(["--home", str(home), *args]) == 0
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


@pytest.fixture(scope="module")
def histories(tmp_path_factory) -> tuple[Path, Path]:
    """Several pages of each listing (pages are 1,000 rows), and ten times as many."""
    tmp = tmp_path_factory.mktemp("histories")
    return make_home(tmp, 2_000, "small"), make_home(tmp, 20_000, "large")  # 6k, 60k uploads


@pytest.mark.parametrize(
    "args",
    [
        ["status", "--json"],
        ["status", "--jsonl"],
        ["status", "--all"],
        ["links", "--format", "bbcode"],
        ["links", "--format", "json"],
    ],
)
def test_memory_does_not_grow_with_the_number_of_rows(histories, args):
    small, large = histories
    peak_bytes(small, args)  # first use: imports and caches are not the listing's
    small_peak = peak_bytes(small, args)
    large_peak = peak_bytes(large, args)
    assert large_peak < small_peak * 1.5 + 256 * 1024, (small_peak, large_peak)


def test_status_text_cuts_a_long_item_name_with_an_ellipsis(home, capsys):
    from filehost_tui.engine.models import Item

    long = "Holiday gallery 2024 - Lisbon, Porto and the Algarve coast"
    Item.update(name=long).where(Item.id == 1).execute()
    _, out, _ = run(home, capsys, "status", "--all")
    first = out.splitlines()[0]
    assert first[7:37] == long[:29] + "…"
