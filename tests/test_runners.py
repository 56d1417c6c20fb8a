"""Runners by name on SQLite: which runner takes which upload, `assign`, `--anywhere`,
max_connections counted over every runner, the runners table, and the schema-5 migration."""

from __future__ import annotations

import json
import socket
import sqlite3

import pytest

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.database import SCHEMA_VERSION, open_database
from filehost_tui.engine.models import FileHostUpload, Runner, SchemaVersion
from filehost_tui.engine.queue_store import ANY_RUNNER, HostAtCapacity
from filehost_tui.engine.runners import STALE_AFTER_S, RunnerRegistry, default_name
from tests.cli_support import run_main
from tests.engine_harness import cli, make_home
from tests.test_migrations import schema_of

pytestmark = pytest.mark.both_databases  # the store tests (those taking `db`) run on both


def test_only_the_named_runner_or_any_runner_claims_an_upload(store, sample_file, tmp_path):
    other = tmp_path / "other.bin"
    other.write_bytes(b"y" * 10)
    [mine] = store.add([sample_file], ["alpha"], runner="box1")
    [anyones] = store.add([other], ["alpha"], runner=ANY_RUNNER)

    assert store.has_due("alpha", "box2")  # anyone's row only
    first = store.claim("alpha", "o", runner="box2")
    assert first.id == anyones and store.claim("alpha", "o", runner="box2") is None
    assert not store.has_due("alpha", "box2") and store.has_due("alpha", "box1")
    assert store.claim("alpha", "o", runner="box1").id == mine
    assert FileHostUpload.get_by_id(anyones).ran_by == "box2"
    assert FileHostUpload.get_by_id(mine).ran_by == "box1"


def test_a_claim_takes_the_oldest_due_row_of_its_own_and_anyones(store, clock, tmp_path):
    paths = []
    for n in range(4):
        p = tmp_path / f"f{n}.bin"
        p.write_bytes(b"z" * 10)
        paths.append(p)
    ids = [
        store.add([p], ["alpha"], runner=r)[0]
        for p, r in zip(paths, ["b", "", "b", ""], strict=True)
    ]
    got = [store.claim("alpha", "o", runner="b").id for _ in ids]
    assert got == ids  # queue order across both kinds
    assert store.next_due_ts("alpha", "b") is None


def test_max_connections_is_counted_over_every_runner(store, clock, tmp_path):
    for n in range(3):
        p = tmp_path / f"f{n}.bin"
        p.write_bytes(b"z" * 10)
        store.add([p], ["alpha"])
    store.claim("alpha", "o1", runner="box1", max_connections=2)
    store.claim("alpha", "o2", runner="box2", max_connections=2)
    with pytest.raises(HostAtCapacity):
        store.claim("alpha", "o3", runner="box3", max_connections=2)
    assert FileHostUpload.select().where(FileHostUpload.status == "pending").count() == 1
    clock.now += store.lease_seconds + 1  # both runners died: their leases no longer count
    assert store.claim("alpha", "o3", runner="box3", max_connections=2) is not None


def test_assign_hands_uploads_to_another_runner(store, sample_file):
    [upload] = store.add([sample_file], ["alpha"], runner="box1")
    assert store.assign([upload], "box2") == 1
    assert store.claim("alpha", "o", runner="box1") is None
    assert store.claim("alpha", "o", runner="box2").id == upload


def test_add_records_this_machine_unless_told_and_assign_changes_it(tmp_path, sample_file, capsys):
    home = tmp_path / "home"
    for args in ([], ["--runner", "nas"], ["--anywhere"]):
        code, _, err = run_main(capsys, home, "add", str(sample_file), "--host", "catbox", *args)
        assert code == 0, err
        FileHostUpload.update(status="completed").execute()  # so the path may be queued again
    _, out, _ = run_main(capsys, home, "status", "--json")
    uploads = json.loads(out)["uploads"]
    assert [u["for_runner"] for u in uploads] == [default_name(), "nas", None]
    assert all(u["runner"] is None for u in uploads)  # no runner has held them yet

    db = open_database(home / "filehost-tui.db")
    RunnerRegistry(db).started("nas")
    db.close()
    code, out, err = run_main(capsys, home, "assign", "1", "3", "--runner", "nas")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "upload 1: assigned to runner nas",
        "upload 3: assigned to runner nas",
    ]
    code, out, _ = run_main(capsys, home, "assign", "2", "--anywhere")
    assert code == 0 and out == "upload 2: assigned to any runner\n"
    _, out, _ = run_main(capsys, home, "status", "--json")
    assert [u["for_runner"] for u in json.loads(out)["uploads"]] == ["nas", None, "nas"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["assign", "7", "--runner", "nas"], "no upload with id 7"),
        (["assign", "1", "--runner", "ghost"], "no runner named 'ghost' has run"),
        (["assign", "1", "--runner", "bad name"], "is not a runner name"),
        (["assign", "1"], "one of the arguments --runner --anywhere is required"),
        (["assign", "x", "--anywhere"], "'x' is not an upload id"),
        (["add", "FILE", "--host", "catbox", "--runner", "a/b"], "is not a runner name"),
        (["add", "FILE", "--host", "catbox", "--runner="], "is not a runner name"),
        (["add", "FILE", "--host", "catbox", "--runner", "a", "--anywhere"], "not allowed with"),
        (["run", "--name=-x"], "is not a runner name"),
        (["run", "--name", ""], "is not a runner name"),
    ],
)
def test_bad_runner_input_is_one_line_and_exit_2(tmp_path, sample_file, capsys, args, says):
    home = tmp_path / "home"
    assert run_main(capsys, home, "add", str(sample_file), "--anywhere", "--host", "catbox")[0] == 0
    db = open_database(home / "filehost-tui.db")
    RunnerRegistry(db).started("nas")
    db.close()
    args = [str(sample_file) if a == "FILE" else a for a in args]
    try:
        code, out, err = run_main(capsys, home, *args)
    except SystemExit as exc:  # argparse's refusals
        code = exc.code
        out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert says in err and err.count("\n") == 1
    rows = list(FileHostUpload.select())
    assert [(r.status, r.runner) for r in rows] == [("pending", ANY_RUNNER)]  # queue intact


def test_a_runner_takes_its_own_and_anyones_uploads_and_leaves_the_rest(tmp_path):
    files = []
    for n in range(3):
        p = tmp_path / f"f{n}.bin"
        p.write_bytes(bytes([n]) * 5000)
        files.append(p)
    with FakeHost("0x0") as zx:
        paths = make_home(tmp_path / "home", {"0x0": zx})
        for f, whose in zip(
            files, (["--runner", "box1"], ["--runner", "box2"], ["--anywhere"]), strict=True
        ):
            assert cli(paths, "add", str(f), "--host", "0x0", *whose).returncode == 0
        done = cli(paths, "run", "--until-idle", "--name", "box1")
        assert done.returncode == 0, done.stderr
        assert "runner started: box1" in done.stdout
    db = open_database(paths.database)
    try:
        got = {r.id: (r.status, r.ran_by) for r in FileHostUpload.select()}
        [box1] = RunnerRegistry(db).all()
    finally:
        db.close()
    assert got == {1: ("completed", "box1"), 2: ("pending", ""), 3: ("completed", "box1")}
    assert (box1.name, box1.state, box1.machine) == ("box1", "stopped", socket.gethostname())


def test_a_runner_that_stopped_beating_is_stale(db):
    registry = RunnerRegistry(db)
    registry.started("box1")
    registry.started("box2")
    registry.stopped("box2")
    beat = Runner.get_by_id("box1").heartbeat_ts
    states = {r.name: r.state for r in registry.all(now=beat + STALE_AFTER_S + 1)}
    assert states == {"box1": "stale", "box2": "stopped"}
    assert {r.name: r.state for r in registry.all(now=beat + 1)}["box1"] == "running"


def test_a_version_4_database_gains_runners_and_its_uploads_stay_anyones(tmp_path):
    old, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    open_database(fresh).close()
    db = open_database(old)
    db.close()
    raw = sqlite3.connect(old)
    raw.executescript(
        "DROP INDEX file_host_uploads_host_name_status_runner_next_attempt_ts;"
        "ALTER TABLE file_host_uploads DROP COLUMN runner;"
        "ALTER TABLE file_host_uploads DROP COLUMN ran_by;"
        "DROP TABLE runners;"
        "INSERT INTO items (path, name, kind, total_size, file_count, fingerprint, created_ts)"
        " VALUES ('/data/a.bin', 'a.bin', 'file', 10, 1, 'fp', 1.0);"
        "INSERT INTO file_host_uploads (item_id, host_name, status, total_bytes, uploaded_bytes,"
        " retry_count, next_attempt_ts, created_ts) VALUES (1, 'alpha', 'pending', 10, 0, 0, 0, 1);"
        "UPDATE schema_version SET version = 4;"
    )
    raw.commit()
    raw.close()

    db = open_database(old)
    try:
        assert SchemaVersion.get().version == SCHEMA_VERSION == 6
        row = FileHostUpload.get_by_id(1)
        assert (row.runner, row.ran_by) == (ANY_RUNNER, "")
    finally:
        db.close()
    assert schema_of(old) == schema_of(fresh)


def test_status_names_every_runner_once_several_have_run(tmp_path, sample_file, capsys):
    home = tmp_path / "home"
    assert run_main(capsys, home, "add", str(sample_file), "--host", "catbox")[0] == 0
    _, out, _ = run_main(capsys, home, "status")
    assert "runner " not in out  # one machine, one runner: nothing to tell apart
    db = open_database(home / "filehost-tui.db")
    registry = RunnerRegistry(db)
    registry.started("box1")
    registry.started("box2")
    registry.stopped("box2")
    db.close()
    _, out, _ = run_main(capsys, home, "status")
    lines = out.splitlines()
    assert lines[0].startswith(f"runner box1 on {socket.gethostname()}: running, 0 transfer(s)")
    assert lines[1].startswith(f"runner box2 on {socket.gethostname()}: stopped, 0 transfer(s),")
    assert "catbox" in lines[2]
