"""The shared queue on a real PostgreSQL: choosing it, its errors (one line, exit 2, never the
password), its schema version, claims from two processes, index use, and an upload end to end.

The store suites themselves run on both databases (tests marked both_databases); these are what
only PostgreSQL has.
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import textwrap

import peewee
import pytest

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.database import SCHEMA_VERSION
from filehost_tui.engine.models import FileHostUpload, Item, SchemaVersion
from filehost_tui.engine.pg_database import PgQueueDatabase, open_pg_database
from filehost_tui.engine.pg_schema import CLAIM_INDEX
from filehost_tui.engine.queue_reads import ATTENTION, HISTORY, QueueReads, UploadFilter
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.errors import UserError
from tests.cli_support import REPO, clean_env, cli, write_config
from tests.test_queue_reads import HOSTS, fill

PASSWORD = "hunter2-secret"


@pytest.fixture
def refused_port():
    """A loopback port bound but never listening: a connection to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("filehost-tui: error: ")
    return line


def test_an_unreachable_server_is_one_line_without_the_password(tmp_path, refused_port):
    url = f"postgresql://alice:{PASSWORD}@127.0.0.1:{refused_port}/queue"
    line = one_error_line(cli(tmp_path / "home", "status", "--db", url))
    assert PASSWORD not in line and "alice:***@127.0.0.1" in line
    assert "check that the server runs" in line


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://u@127.0.0.1/q", "is not a PostgreSQL URL"),
        ("postgresql://u@127.0.0.1:port/q", "is malformed"),
        ("postgresql://u@127.0.0.1:5432", "names no database"),
    ],
)
def test_a_bad_database_url_is_one_line(tmp_path, url, says):
    line = one_error_line(cli(tmp_path / "home", "status", "--db", url))
    assert says in line and "postgresql://USER@HOST:5432/DATABASE" in line


def test_a_server_that_refuses_the_database_or_the_user_is_one_line(tmp_path, pg_server):
    missing_db = pg_server.rsplit("/", 1)[0] + "/no_such_database_here"
    line = one_error_line(cli(tmp_path / "home", "status", "--db", missing_db))
    assert "does not exist" in line and "create it first" in line
    no_user = pg_server.replace("postgres@", f"nobody_here:{PASSWORD}@")
    line = one_error_line(cli(tmp_path / "home", "status", "--db", no_user))
    assert "nobody_here" in line and PASSWORD not in line


def test_without_the_driver_the_error_names_the_extra(tmp_path, pg_url):
    # psycopg made unimportable before anything imports it: as if it were not installed
    code = textwrap.dedent(
        """
        import sys
        sys.modules["psycopg"] = None
        from filehost_tui.cli.main import main
        sys.exit(main(sys.argv[1:]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "--home", str(tmp_path / "home"), "status", "--db", pg_url],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "pip install 'filehost-tui[postgres]'" in one_error_line(result)


def test_the_url_comes_from_db_then_the_environment_then_config(tmp_path, pg_url, sample_file):
    home = tmp_path / "home"
    no_server = '[hosts."0x0"]\nbase_url = "http://127.0.0.1:9"\n'  # nothing is sent here
    write_config(home, f'database_url = "{pg_url}"\n{no_server}')
    assert cli(home, "add", str(sample_file), "--host", "0x0").returncode == 0
    env = {"FILEHOST_TUI_DATABASE_URL": pg_url}
    (row,) = json.loads(cli(tmp_path / "other", "status", "--json", env=env).stdout)["uploads"]
    assert row["item"] == "movie.bin" and row["status"] == "pending"
    elsewhere = "postgresql://postgres@127.0.0.1:1/nowhere"  # --db wins: this one is tried
    line = one_error_line(cli(home, "status", "--db", elsewhere))
    assert "127.0.0.1:1/nowhere" in line
    assert not (home / "filehost-tui.db").exists()  # SQLite was never opened


def test_a_newer_schema_is_refused_and_left_alone(pg_url):
    db = open_pg_database(pg_url)
    SchemaVersion.update(version=SCHEMA_VERSION + 1).execute()
    db.close()
    with pytest.raises(UserError, match="written by a newer filehost-tui"):
        open_pg_database(pg_url)
    db = PgQueueDatabase(pg_url)
    assert db.execute_sql("SELECT version FROM schema_version").fetchone() == (SCHEMA_VERSION + 1,)
    db.close()


def test_a_schema_holding_other_tables_is_refused(pg_url):
    db = PgQueueDatabase(pg_url)
    db.execute_sql("CREATE TABLE someone_elses (id int)")
    db.close()
    with pytest.raises(UserError, match="holds tables that are not filehost-tui's"):
        open_pg_database(pg_url)


CLAIMER = textwrap.dedent(
    """
    import sys
    from filehost_tui.engine.pg_database import open_pg_database
    from filehost_tui.engine.queue_store import QueueStore
    store = QueueStore(open_pg_database(sys.argv[1]), host_limits={"same": None})
    print("ready", flush=True)
    sys.stdin.readline()
    while (up := store.claim("same", sys.argv[2])) is not None:
        store.complete(up.id, f"http://127.0.0.1/{up.id}", None, lease=up.lease)
        print(up.id, flush=True)
    """
)


def test_two_processes_claiming_one_hosts_rows_never_share_one(pg_url):
    db = open_pg_database(pg_url)
    with db.atomic():
        item = Item.create(
            path="/x", name="x", kind="file", total_size=1, file_count=1, fingerprint="f"
        )
        FileHostUpload.insert_many(
            [{"item": item.id, "host_name": "same", "volume": n} for n in range(300)]
        ).execute()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, pg_url, f"p{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=clean_env(),
            cwd=REPO,
        )
        for n in range(2)
    ]
    for proc in procs:
        assert proc.stdout.readline() == "ready\n"
    for proc in procs:  # both start claiming at once
        proc.stdin.write("go\n")
        proc.stdin.flush()
    got = [proc.communicate(timeout=120)[0].split() for proc in procs]
    assert all(proc.returncode == 0 for proc in procs)
    ids = [int(i) for part in got for i in part]
    assert len(ids) == len(set(ids)) == 300
    assert FileHostUpload.select().where(FileHostUpload.status == "completed").count() == 300
    db.close()


class _Seen(PgQueueDatabase):
    """Records each statement as sent, with its values, to ask the server for its plan."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.sent: list[tuple[str, tuple]] = []

    def execute_sql(self, sql, params=None):
        self.sent.append((sql, tuple(params or ())))
        return super().execute_sql(sql, params)


def plans(db: _Seen) -> dict[str, str]:
    """Each SELECT sent, with its plan when sequential scans are priced out: a Seq Scan left in
    one means no index can answer it (on a few hundred rows the planner would scan anyway)."""
    statements = {
        (sql.replace("?", "%s"), params): None
        for sql, params in db.sent
        if sql.lstrip().upper().startswith("SELECT")
    }
    assert statements
    found = {}
    with db.connection().cursor() as cur:
        cur.execute("SET enable_seqscan = off")
        for sql, params in statements:
            cur.execute(f"EXPLAIN {sql}", params)
            found[sql] = "\n".join(row[0] for row in cur.fetchall())
        cur.execute("RESET enable_seqscan")
    return found


def test_claims_pages_and_hot_reads_search_an_index_on_postgresql(pg_url):
    open_pg_database(pg_url).close()
    db = _Seen(pg_url)
    db.bind([FileHostUpload, Item])
    fill(db, 300)
    db.execute_sql("ANALYZE")
    db.sent.clear()
    store = QueueStore(db, host_limits=dict.fromkeys(HOSTS))
    claimed = store.claim("alpha", "plan")
    store.complete(claimed.id, "http://127.0.0.1/x", None, lease=claimed.lease)
    reads = QueueReads(db, chunk=10)
    for flt in (
        UploadFilter(),
        UploadFilter(statuses=ATTENTION),
        UploadFilter(statuses=HISTORY, hosts=("alpha",)),
        UploadFilter(hosts=("beta",), since_ts=1_010.0),
    ):
        reads.newest(flt, 5)
        reads.newest(flt, 5, before=40)
        next(reads.iter_rows(flt))
    reads.changed_since(0)
    reads.search_names(["e-0012"], 10)
    reads.has_open(["alpha", "beta"], ["lease-1"])
    store.has_due("beta")
    store.next_due_ts("beta")
    found = plans(db)
    scans = [
        f"{sql}\n{plan}"
        for sql, plan in found.items()
        if "Seq Scan on file_host_uploads " in plan or "Seq Scan on items " in plan
    ]
    assert scans == []
    (claim,) = [plan for sql, plan in found.items() if "SKIP LOCKED" in sql]
    # the oldest due row straight from the index: no sort of the host's whole backlog
    assert f"Index Scan using {CLAIM_INDEX} " in claim and "Sort" not in claim, claim
    db.close()


def test_add_and_run_upload_through_the_cli_on_postgresql(tmp_path, pg_url, sample_file):
    home = tmp_path / "home"
    with FakeHost("0x0") as fake:
        write_config(home, f'[hosts."0x0"]\nbase_url = "{fake.base_url}"\n')
        added = cli(home, "--db", pg_url, "add", str(sample_file), "--host", "0x0")
        assert added.returncode == 0, added.stderr
        ran = cli(home, "run", "--until-idle", "--db", pg_url)
        assert ran.returncode == 0, ran.stderr
        expected = hashlib.md5(sample_file.read_bytes()).hexdigest()
        assert [r.md5 for r in fake.received] == [expected]
    (row,) = json.loads(cli(home, "status", "--json", "--db", pg_url).stdout)["uploads"]
    assert row["status"] == "completed" and row["download_url"].startswith(fake.base_url)
    db = open_pg_database(pg_url)
    assert FileHostUpload.get().status == "completed"
    db.close()
    assert not (home / "filehost-tui.db").exists()


def test_a_connection_the_server_dropped_is_opened_again_for_the_next_statement(pg_url):
    db = open_pg_database(pg_url)
    admin = PgQueueDatabase(pg_url)

    def drop_connection() -> None:
        (pid,) = db.execute_sql("SELECT pg_backend_pid()").fetchone()
        # waits (up to 5 s) until the backend is gone, so the next statement surely meets the loss
        admin.execute_sql("SELECT pg_terminate_backend(%s, 5000)", (pid,))

    try:
        drop_connection()
        with pytest.raises(peewee.OperationalError):  # the statement that met the loss
            db.execute_sql("SELECT 1")
        assert SchemaVersion.get().version == SCHEMA_VERSION  # the next one reconnects
        drop_connection()
        with pytest.raises(peewee.DatabaseError), db.atomic():  # lost inside a transaction
            SchemaVersion.update(version=1).execute()
        assert db.transaction_depth() == 0
        assert SchemaVersion.get().version == SCHEMA_VERSION  # nothing of it was written
    finally:
        admin.close()
        db.close()


def test_a_runner_name_is_taken_on_its_own_queue_only(pg_server, pg_url):
    """Advisory locks belong to the whole database: two queues (schemas) on one server each
    have their own runner names."""
    import uuid
    from urllib.parse import quote

    import psycopg

    from filehost_tui.engine.pg_runner import PgNameLock

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    other_url = f"{pg_server}?options={quote(f'-csearch_path={schema}')}"
    name = f"box-{uuid.uuid4().hex[:8]}"
    held = []
    try:
        for url in (pg_url, other_url):
            lock = PgNameLock(open_pg_database(url), name)
            lock.acquire()  # the same name on the other queue is free
            held.append(lock)
        with pytest.raises(UserError, match=f"a runner named {name} is already running"):
            PgNameLock(open_pg_database(pg_url), name).acquire()
    finally:
        for lock in held:
            lock.release()
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
