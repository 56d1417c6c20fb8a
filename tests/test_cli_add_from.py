"""`add --from FILE|-` [-0]: many paths in one command, with the same checks and the same
all-or-nothing rule as `add PATH...`; every bad input is one line, exit 2, and the queue intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from filehost_tui.cli.main import main
from tests.cli_support import cli


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "files"
    folder.mkdir()
    paths = []
    for i in range(300):
        path = folder / f"part {i:03d}.bin"
        path.write_bytes(b"x" * (i + 1))
        paths.append(path)
    return paths


def queued(home: Path, capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["--home", str(home), "status", "--json"]) == 0
    return json.loads(capsys.readouterr().out)["uploads"]


def test_a_list_of_three_hundred_paths_is_queued_in_order(home, files, tmp_path, capsys):
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"{p}\n" for p in files) + "\n")  # a blank line is skipped
    assert main(["--home", str(home), "add", "--from", str(listing), "--host", "katfile"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 300 and out[0] == "queued upload 1: part 000.bin -> katfile"
    assert [u["item"] for u in queued(home, capsys)] == [p.name for p in files]


def test_nul_separated_paths_from_stdin_may_hold_newlines(home, tmp_path):
    odd = tmp_path / "two\nlines.bin"
    odd.write_bytes(b"x")
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"y")
    done = cli(home, "add", "--from", "-", "-0", "--host", "katfile", stdin=f"{odd}\0{plain}\0")
    assert done.returncode == 0, done.stderr
    status = json.loads(cli(home, "status", "--json").stdout)["uploads"]
    assert [u["item"] for u in status] == ["two\nlines.bin", "plain.bin"]


def bad(home: Path, capsys, *args: str) -> str:
    capsys.readouterr()
    try:
        code = main(["--home", str(home), "add", *args])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("filehost-tui: error: "), err
    return err


def test_every_bad_list_is_one_line_and_leaves_the_queue_as_it_was(home, files, tmp_path, capsys):
    assert main(["--home", str(home), "add", str(files[0]), "--host", "katfile"]) == 0
    before = queued(home, capsys)

    def listing(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    missing = tmp_path / "gone.bin"
    cases = [
        (
            ("--from", listing("missing.txt", f"{files[1]}\n{missing}\n{files[2]}\n")),
            f"{missing}: no such file or folder",
        ),
        (("--from", listing("twice.txt", f"{files[3]}\n{files[3]}\n")), "is given twice"),
        (("--from", listing("queued.txt", f"{files[4]}\n{files[0]}\n")), "is already queued"),
        (("--from", listing("blank.txt", "\n\n")), "names no path; give one path per line"),
        (("--from", str(tmp_path / "nolist.txt")), "cannot read the path list"),
        (("--from", listing("ok.txt", f"{files[5]}\n"), str(files[6])), "not both"),
        ((str(files[7]), "-0"), "-0 goes with --from FILE"),
        ((), "nothing to add"),
    ]
    for args, message in cases:
        assert message in bad(home, capsys, *args, "--host", "katfile"), args
        assert queued(home, capsys) == before, args
