"""A runner that loses its PostgreSQL queue mid-transfer: a real `filehost-tui run` process,
connected as a role of its own, so the test can cut it off — refuse its logins and end its
sessions — while a real fake host receives.
See docs/architecture.md, 'When a runner loses the database'."""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.models import UploadMetric
from tests.engine_harness import wait_until
from tests.test_runners_pg import SHORT_LEASE, Queue, Runner, fh, machine, make_files


class Outage:
    """A role the runner logs in as; `cut()` refuses its logins and ends its sessions, as a network
    loss would; `restore()` lets it in again."""

    def __init__(self, server: str) -> None:
        self.role = f"runner_{uuid.uuid4().hex[:12]}"
        self._admin = psycopg.connect(server, autocommit=True)
        self._admin.execute(f"CREATE ROLE {self.role} SUPERUSER LOGIN")

    def url(self, pg_url: str) -> str:
        user, rest = pg_url.split("://", 1)[1].split("@", 1)
        return f"postgresql://{self.role}@{rest}"

    def sessions(self) -> int:
        return self._admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (self.role,)
        ).fetchone()[0]

    def cut(self) -> int:
        """Sessions ended (each one a connection the runner had opened)."""
        self._admin.execute(f"ALTER ROLE {self.role} NOLOGIN")
        return self.kill()

    def kill(self) -> int:
        return self._admin.execute(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE usename = %s) AS t",
            (self.role,),
        ).fetchone()[0]

    def restore(self) -> None:
        self._admin.execute(f"ALTER ROLE {self.role} LOGIN")

    def close(self) -> None:
        self.kill()
        self._admin.execute(f"DROP OWNED BY {self.role}")
        self._admin.execute(f"DROP ROLE {self.role}")
        self._admin.close()


@pytest.fixture
def outage(pg_server):
    o = Outage(pg_server)
    yield o
    o.close()


def unique(name: str) -> str:
    """Runner names are advisory locks of the whole database, not of a test's schema: runs of
    these tests at the same time on one server must not share one."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def runner_log(paths) -> str:
    return "".join(p.read_text() for p in sorted(paths.log_dir.glob("*.log*")))


def test_a_runner_cut_off_from_the_database_finishes_its_upload_once(tmp_path, pg_url, outage):
    [file] = make_files(tmp_path / "src", 1, 1_200_000)
    queue = Queue(pg_url)
    with FakeHost("0x0") as zx:
        slow = {"0x0": "max_upload_speed = 300000"}  # about 4 s on the wire
        a = machine(tmp_path / "a", {"0x0": zx}, settings=slow)
        added = fh(a, pg_url, "add", str(file), "--host", "0x0", "--anywhere")
        assert added.returncode == 0, added.stderr
        alpha = Runner(a, outage.url(pg_url), unique("alpha"))
        try:
            wait_until(lambda: zx.uploads_in_flight >= 1, 30, "bytes on the wire")
            cut_at = time.monotonic()
            outage.cut()

            def kept_unsaved() -> bool:
                outage.kill()  # a session that got in before its role lost the right to log in
                return "cannot record upload 1 yet" in runner_log(a)

            # the transfer goes on, gets its link, and the outcome waits in memory
            wait_until(kept_unsaved, 60, "the link kept in memory")
            assert zx.wait_for_received(1, timeout=0)
            assert alpha.proc.poll() is None
            [row] = queue.rows()
            assert (row.status, row.download_url) == ("uploading", None)
            attempts = runner_log(a).count("cannot reach the database")
            outage.restore()
            lasted = time.monotonic() - cut_at

            def recorded() -> bool:
                [row] = queue.rows()
                return row.status == "completed"

            wait_until(recorded, 60, "the link written once the database is back")
        finally:
            code = alpha.stop()
        log = runner_log(a)
        [row] = queue.rows()
        metrics = list(UploadMetric.select())
        queue.close()
    assert code == 143, log
    assert [f.name for f in zx.received] == [file.name]
    assert row.download_url.startswith(zx.base_url)
    assert [(m.upload_id, m.status) for m in metrics] == [(row.id, "success")]
    assert "recorded 1 upload outcome(s) that waited for the database" in log
    assert "check that the database server runs and this machine reaches it" in log
    assert "free some disk space" not in log
    # one try at a time for the whole process, further and further apart
    assert 1 <= attempts <= 8 + lasted / 5, f"{attempts} attempts in {lasted:.1f}s:\n{log}"


def test_a_late_link_never_overwrites_the_runner_that_took_the_upload_over(
    tmp_path, pg_url, outage
):
    """Cut off past its lease, alpha loses the row to beta; alpha's own link, got meanwhile, is
    a real file on the host: it is logged, and the row keeps beta's."""
    [file] = make_files(tmp_path / "src", 1, 1_200_000)
    queue = Queue(pg_url)
    with FakeHost("0x0") as zx:
        slow = {"0x0": "max_upload_speed = 300000"}
        a = machine(tmp_path / "a", {"0x0": zx}, SHORT_LEASE, settings=slow)
        b = machine(tmp_path / "b", {"0x0": zx}, SHORT_LEASE)
        added = fh(a, pg_url, "add", str(file), "--host", "0x0", "--anywhere")
        assert added.returncode == 0, added.stderr
        alpha = Runner(a, outage.url(pg_url), unique("alpha"))
        beta = None
        try:
            wait_until(lambda: zx.uploads_in_flight >= 1, 30, "alpha's bytes on the wire")
            outage.cut()
            beta = Runner(b, pg_url, unique("beta"))

            def beta_done() -> bool:
                outage.kill()
                [row] = queue.rows()
                return row.status == "completed"

            wait_until(beta_done, 60, "beta took the upload over and finished it")
            wait_until(
                lambda: outage.kill() >= 0 and "cannot record upload 1 yet" in runner_log(a),
                60,
                "alpha's link kept in memory",
            )
            outage.restore()
            wait_until(
                lambda: "no longer held by this attempt" in runner_log(a),
                60,
                "alpha told its link is not the row's",
            )
            assert alpha.proc.poll() is None
        finally:
            codes = [r.stop() for r in (alpha, beta) if r is not None]
        [row] = queue.rows()
        metrics = list(UploadMetric.select())
        queue.close()
    log = runner_log(a)
    assert codes == [143, 143], log
    assert len(zx.received) == 2  # alpha's and beta's: both on the host
    alpha_link = log.split("upload 1 got its link from 0x0: ")[1].split()[0]
    assert (row.status, row.ran_by) == ("completed", beta.name)
    assert row.download_url != alpha_link
    assert f"its link was {alpha_link}" in log
    assert [m.upload_id for m in metrics] == [row.id]
    assert "[]" in (a.data_dir / "unsaved-links.json").read_text()  # nothing left to replay
