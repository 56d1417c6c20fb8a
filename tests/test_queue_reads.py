"""The read side of the queue on a real SQLite file: pages, filters, change numbers and counts stay
true through every QueueStore write, and every hot query is an index search, never a table scan."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from filehost_tui.engine.database import SCHEMA_VERSION, open_database
from filehost_tui.engine.metrics_store import MetricsStore
from filehost_tui.engine.models import FileHostUpload, Item, SchemaVersion
from filehost_tui.engine.queue_reads import ATTENTION, HISTORY, QueueReads, UploadFilter
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.engine.states import Status
from filehost_tui.errors import ErrorKind

pytestmark = pytest.mark.both_databases
HOSTS = ("alpha", "beta", "gamma")
STATUSES = ("completed", "cancelled", "failed", "pending")


def fill(db, count: int, *, start_ts: float = 1_000.0) -> None:
    """`count` items, each uploaded to every host, statuses cycling; times one second apart."""
    with db.atomic():
        Item.insert_many(
            [
                dict(
                    path=f"/srv/f{i}",
                    name=f"file-{i:05d}.bin",
                    kind="file",
                    total_size=10,
                    file_count=1,
                    fingerprint="x",
                    created_ts=start_ts + i,
                )  # fmt: skip
                for i in range(count)
            ]
        ).execute()
        ids = [i for (i,) in Item.select(Item.id).order_by(Item.id).tuples()][-count:]
        rows = []
        for n, item_id in enumerate(ids):
            for h, host in enumerate(HOSTS):
                status = STATUSES[(n + h) % len(STATUSES)]
                rows.append(
                    dict(
                        item=item_id,
                        host_name=host,
                        status=status,
                        total_bytes=10,
                        created_ts=start_ts + n,
                        download_url=f"https://x/{item_id}/{host}"
                        if status == "completed"
                        else None,
                        finished_ts=None if status == "pending" else start_ts + n,
                    )  # fmt: skip
                )
        for i in range(0, len(rows), 300):
            FileHostUpload.insert_many(rows[i : i + 300]).execute()


@pytest.fixture
def reads(db):
    fill(db, 200)
    return QueueReads(db, chunk=7)


def all_rows() -> list[FileHostUpload]:
    return list(FileHostUpload.select().order_by(FileHostUpload.id))


def test_pages_in_queue_order_match_the_filter_exactly(reads):
    everything = all_rows()
    cases = [
        (UploadFilter(), lambda r: True),
        (UploadFilter(statuses=("failed", "pending")), lambda r: r.status in ("failed", "pending")),
        (UploadFilter(hosts=("beta",)), lambda r: r.host_name == "beta"),
        (
            UploadFilter(statuses=("completed",), hosts=("alpha", "gamma")),
            lambda r: r.status == "completed" and r.host_name in ("alpha", "gamma"),
        ),
        (UploadFilter(since_ts=1_150.0), lambda r: r.created_ts >= 1_150.0),
        (UploadFilter(item_id=5), lambda r: r.item_id == 5),
    ]
    for flt, wanted in cases:
        expected = [r.id for r in everything if wanted(r)]
        assert [r.id for r in reads.iter_rows(flt)] == expected, flt
        assert [r.id for r in reads.newest(flt, 10)] == expected[::-1][:10], flt
        older = reads.newest(flt, 10, before=expected[-10]) if len(expected) > 10 else []
        assert [r.id for r in older] == expected[::-1][10:20], flt


def test_a_since_after_everything_matches_nothing(reads):
    assert list(reads.iter_rows(UploadFilter(since_ts=10**10))) == []


def test_names_are_found_by_any_part_of_them(reads):
    found = reads.search_names(["e-0012"], limit=100)
    assert {r.item for r in found} == {f"file-{i:05d}.bin" for i in range(120, 130)}
    assert [r.id for r in found] == sorted((r.id for r in found), reverse=True)
    assert reads.search_names(["e-0012", "9.b"], limit=100)[0].item == "file-00129.bin"
    assert len({r.item_id for r in reads.search_names(["file"], limit=4)}) == 4


def test_counts_and_change_numbers_follow_every_queue_write(db, tmp_path, clock):
    fill(db, 30)
    reads = QueueReads(db)
    store = QueueStore(db, host_limits=dict.fromkeys(HOSTS), clock=clock, jitter=lambda: 1.0)
    files = [tmp_path / f"new{i}.txt" for i in range(3)]
    for f in files:
        f.write_text("data")
    seq = reads.last_change()

    ids = store.add(files, ["alpha", "beta"])
    claimed = store.claim("alpha", "t")
    store.progress(claimed.id, 2, claimed.lease)
    store.complete(claimed.id, "https://x/done", None, lease=claimed.lease)
    beta = store.claim("beta", "t")
    store.fail(beta.id, ErrorKind.SERVER, "502", retryable=False, max_retries=0, base_delay=1)
    store.retry(beta.id)
    store.pause(ids[-1])
    store.cancel(ids[-2])
    old = FileHostUpload.get(FileHostUpload.status == "failed")
    store.retry(old.id)

    rows, new_seq = reads.changed_since(seq)
    assert {r.id for r in rows} == {*ids, old.id, claimed.id, beta.id}
    assert new_seq == reads.last_change() > seq
    assert reads.changed_since(new_seq) == ([], new_seq)
    by_id = {r.id: r for r in rows}
    assert by_id[claimed.id].status == "completed" and by_id[beta.id].status == "pending"

    FileHostUpload.delete().where(FileHostUpload.status == "cancelled").execute()
    truth = Counter((r.host_name, r.status) for r in all_rows())
    assert reads.counts() == dict(truth)
    assert reads.count(UploadFilter(statuses=ATTENTION)) == sum(
        n for (_, s), n in truth.items() if s in ATTENTION
    )


def test_an_older_database_gains_counts_change_numbers_and_name_search(tmp_path):
    path = tmp_path / "old.db"
    db = open_database(path)
    fill(db, 20)
    db.close()
    raw = sqlite3.connect(path)  # take it back to schema 2, the last before these reads
    triggers = raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for (name,) in triggers:
        raw.execute(f"DROP TRIGGER {name}")
    for name in ("change_seq", "host_status_id", "created_ts", "status_finished"):
        raw.execute(f"DROP INDEX file_host_uploads_{name}")
    raw.execute("DROP INDEX upload_metrics_stats")
    raw.execute("DROP INDEX items_path")
    raw.executescript(
        "DROP TABLE upload_counts; DROP TABLE item_names;"
        "ALTER TABLE file_host_uploads DROP COLUMN change_seq;"
        # schema 4's volumes, which came later still
        "DROP INDEX file_host_uploads_item_id_host_name_volume;"
        "ALTER TABLE file_host_uploads DROP COLUMN volume;"
        "ALTER TABLE file_host_uploads DROP COLUMN volumes;"
        "ALTER TABLE file_host_uploads DROP COLUMN volume_offset;"
        "CREATE UNIQUE INDEX file_host_uploads_item_id_host_name"
        " ON file_host_uploads (item_id, host_name);"
        # schema 5's runners
        "DROP INDEX file_host_uploads_host_name_status_runner_next_attempt_ts;"
        "ALTER TABLE file_host_uploads DROP COLUMN runner;"
        "ALTER TABLE file_host_uploads DROP COLUMN ran_by;"
        "DROP TABLE runners;"
        "UPDATE schema_version SET version = 2;"
    )
    raw.commit()
    raw.close()

    db = open_database(path)
    try:
        assert SchemaVersion.get().version == SCHEMA_VERSION
        reads = QueueReads(db)
        assert reads.counts() == dict(Counter((r.host_name, r.status) for r in all_rows()))
        assert len(reads.search_names(["e-0001"], 100)) == 30
        seq = reads.last_change()
        FileHostUpload.update(status="paused").where(FileHostUpload.id == 3).execute()
        assert [r.id for r in reads.changed_since(seq)[0]] == [3]
    finally:
        db.close()


def plans(path: Path, statements: list[str]) -> dict[str, list[str]]:
    raw = sqlite3.connect(path)
    try:
        return {
            sql: [row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}")] for sql in statements
        }
    finally:
        raw.close()


def hot_statements(tmp_path: Path, run) -> dict[str, list[str]]:
    """Every SELECT that `run(db)` sends, with SQLite's plan for it."""
    seen: list[str] = []
    path = tmp_path / "plan.db"
    db = open_database(path, trace=seen.append)
    try:
        fill(db, 50)
        seen.clear()
        run(db)
    finally:
        db.close()
    selects = [s for s in dict.fromkeys(seen) if s.lstrip().upper().startswith("SELECT")]
    assert selects
    return plans(path, selects)


def assert_no_scan(found: dict[str, list[str]], *, covering_ok: bool = False) -> None:
    """A SCAN step is a bug, except over the small counts table or the name index; an aggregate
    over a whole period may walk a covering index (never the table) when `covering_ok`."""
    for sql, steps in found.items():
        for step in steps:
            if not step.startswith("SCAN ") or step == "SCAN CONSTANT ROW":
                continue
            small = step.startswith(("SCAN upload_counts", "SCAN item_names VIRTUAL TABLE"))
            walk = covering_ok and "USING COVERING INDEX" in step
            assert small or walk, f"{step!r} in the plan of {sql}"


def test_every_read_the_screen_and_the_cli_make_searches_an_index(tmp_path):
    def run(db):
        reads = QueueReads(db, chunk=10)
        for flt in (
            UploadFilter(),
            UploadFilter(statuses=ATTENTION),
            UploadFilter(statuses=HISTORY, hosts=("alpha",)),
            UploadFilter(hosts=("beta",), since_ts=1_010.0),
            UploadFilter(item_id=4, statuses=("completed",)),
        ):
            list(reads.iter_rows(flt))
            reads.newest(flt, 5)
            reads.newest(flt, 5, before=40)
        reads.changed_since(0)
        reads.counts()
        reads.search_names(["file"], 10)
        reads.item_names(3, 10)  # the runner's lines
        reads.hosts_waiting_outside(["alpha"])  # the runner's start
        reads.has_open(["alpha", "beta"], ["lease-1"])  # run --until-idle, after every upload
        reads.ids_with_status([Status.PAUSED])  # resume all
        reads.bytes_left()  # the ETA of hosts and of the queue
        MetricsStore(db).recent_rates()  # `status`: the speed the runner's meter sampled
        store = QueueStore(db, host_limits=dict.fromkeys(HOSTS))
        store._check_not_queued([Path("/srv/new")], HOSTS)  # what `add` asks of every path
        store.has_due("alpha")
        store.next_due_ts("alpha")
        # a named runner's: its own rows and anyone's, and max_connections over every runner
        reads.has_open(["alpha", "beta"], ["lease-1"], ("box1", ""))
        store.has_due("alpha", "box1")
        store.next_due_ts("alpha", "box1")
        store.claim("alpha", "plan", runner="box1", max_connections=2)

    assert_no_scan(hot_statements(tmp_path, run))


def test_stats_read_an_index_not_the_metrics_table(tmp_path):
    def run(db):
        metrics = MetricsStore(db)
        for i in range(20):
            metrics.record_upload_success(HOSTS[i % 3], i, i, 1.0, 100, 100.0)
        for period in ("all", "7d"):
            metrics.stats(period)

    found = hot_statements(tmp_path, run)
    assert_no_scan(found, covering_ok=True)
    assert any("COVERING INDEX upload_metrics_stats" in " ".join(p) for p in found.values())
