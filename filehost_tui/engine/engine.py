"""The engine: per enabled host, max_connections connection threads, each claiming the host's next
upload whenever it is free and running it itself, under a global limit; a ticker that coalesces
progress, writes it to the DB about once a second, watches the control plane, and samples bandwidth.

A connection thread lives as long as the engine, so its pycurl handle (and the host's keep-alive
connection in it) carries upload after upload: thousands of small files cost neither a thread nor
a TCP connection each (docs/architecture.md, 'Claiming'). Idle connection threads sleep on an
event: a claimable row reaches the wire as soon as it is added (the doorbell rings) or becomes due
(the wait ends at the next due time), never after a polling delay.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import peewee

from filehost_tui.config import Config
from filehost_tui.credentials import read_credentials_file
from filehost_tui.engine.archive_cache import sweep_archives
from filehost_tui.engine.bandwidth import BandwidthMeter, BandwidthSnapshot, RateLimiter
from filehost_tui.engine.control import Control
from filehost_tui.engine.database import is_disk_full
from filehost_tui.engine.doorbell import Doorbell
from filehost_tui.engine.events import (
    BandwidthUpdated,
    DatabaseTrouble,
    Event,
    EventSink,
    UploadProgress,
)
from filehost_tui.engine.host_runtime import HostRuntime, connection_count
from filehost_tui.engine.metrics_store import SAMPLE_EVERY_S, MetricsStore
from filehost_tui.engine.pg_database import DatabaseUnreachable, is_postgres
from filehost_tui.engine.pg_runner import PgDoorbell, PgNameLock
from filehost_tui.engine.queue_reads import QueueReads
from filehost_tui.engine.queue_store import ClaimedUpload, HostAtCapacity, QueueStore
from filehost_tui.engine.runner_lock import Holder, RunnerLock
from filehost_tui.engine.runners import HEARTBEAT_EVERY_S, RunnerRegistry, home_name, remember_name
from filehost_tui.engine.states import IllegalTransition, Status
from filehost_tui.engine.unsaved_outcomes import Outcome, UnsavedOutcomes
from filehost_tui.engine.upload_job import Abort, JobContext, UploadJob
from filehost_tui.engine.volumes import HostLimits
from filehost_tui.errors import UserError
from filehost_tui.hosts.spec import SpecRegistry
from filehost_tui.hosts.transfer import close_thread_transfers
from filehost_tui.paths import AppPaths

log = logging.getLogger("filehost_tui.engine")

TICK_S = 0.25  # progress events: a few per second per upload
DB_EVERY_S = 1.0  # uploaded_bytes written and the control plane read about once a second
IDLE_WAKE_S = 30.0  # a sleeping connection thread re-checks the queue at least this often
LOOP_ERROR_WAIT_S = 2.0  # after a failed queue read, before the connection thread tries again
RECOVER_EVERY_S = 30.0  # the ticker takes back rows whose lease expired (a lost final write)
FULL_WAIT_S = 0.5  # a host whose connections other runners hold all is asked again after this
FULL_HINT = "free some disk space"
UNREACHABLE_HINT = "check that the database server runs and this machine reaches it"

Spawn = Callable[[Callable[[], None], str], None]


@dataclass(frozen=True)
class ActiveTransfer:
    upload_id: int
    item_id: int
    host: str
    phase: str
    uploaded: int
    total: int
    bytes_per_s: float


@dataclass(frozen=True)
class HostState:
    host: str
    active: int
    backoff_until: float | None
    auth_failing: bool
    bytes_per_s: float


class Engine:
    def __init__(
        self,
        paths: AppPaths,
        config: Config,
        registry: SpecRegistry,
        db: peewee.SqliteDatabase,
        *,
        sink: EventSink,
        spawn: Spawn | None = None,
        holder: Holder = "runner",
        name: str | None = None,
    ) -> None:
        """`holder` says who drives this engine, so a process refused the runner lock is told
        whether a runner or a TUI is uploading; `name` is the runner's (default: the home's,
        see runners.home_name), which decides the uploads it may take (docs/architecture.md,
        'Runners')."""
        self.name = name or home_name(paths)
        # on SQLite the runner lock makes this the only runner; a shared database has others
        self.shared = is_postgres(db)
        self.paths = paths
        self.config = config
        self.registry = registry
        self.db = db
        self._sink = sink
        self._spawn = spawn or _thread_spawn
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.queue = QueueStore(
            db,
            host_limits=HostLimits(registry.specs, config, paths.account_limits),
            lease_seconds=config.runner.lease_seconds,
        )
        self.runners = RunnerRegistry(db)
        self.reads = QueueReads(db)
        self.metrics = MetricsStore(db)
        self.control = Control(self.queue, paths, keep_archives=config.limits.keep_archives)
        self.meter = BandwidthMeter()
        self.global_limiter = RateLimiter(config.limits.max_upload_speed)
        self.counters: Counter[str] = Counter()
        self.hosts: dict[str, HostRuntime] = {}
        self._active: dict[int, UploadJob] = {}
        self._lock = threading.Lock()
        self._wake: dict[str, list[threading.Event]] = {}  # one per connection thread
        self._tick_now = threading.Event()
        self._stopping = threading.Event()
        self._free_slots = max(1, config.limits.max_concurrent)  # global slots, under _lock
        self._slot_wanted = False  # a connection thread found none free: wake all on a release
        self._runner_lock = RunnerLock(paths, holder)
        self._name_lock = PgNameLock(db, self.name) if self.shared else None
        self._doorbell: Doorbell | PgDoorbell | None = None
        self._finished = threading.Event()  # set while no upload is running
        self._finished.set()
        self.unsaved = UnsavedOutcomes(paths.data_dir / "unsaved-links.json")
        self._job_context = JobContext(
            paths, config, self.queue, self.metrics, self.meter, self.global_limiter,
            self.count, self.emit, self.keep_unsaved,
        )  # fmt: skip
        self._trouble_shown: tuple[str, int] | None = None

    # ---- lifecycle --------------------------------------------------------------------------

    def take_lock(self) -> None:
        """Become the one process uploading from this database, or raise UserError saying who is;
        a face calls it before announcing itself, so a refused start announces nothing."""
        # a loose credentials.toml stops the start, before any upload is claimed
        read_credentials_file(self.paths.credentials_file)
        self._runner_lock.acquire()
        if self._name_lock is not None:
            try:
                self._name_lock.acquire()
            except BaseException:
                self._runner_lock.release()
                raise

    def start(self) -> None:
        if not self._runner_lock.held:
            self.take_lock()
        try:
            self._record_journal(self.unsaved.prepare_journal())
            remember_name(self.paths, self.name)
        except OSError as exc:
            self._release_locks()
            raise UserError(
                f"cannot write {exc.filename or self.paths.data_dir}: {exc.strerror}; "
                "free some space there and retry"
            ) from None
        self.runners.started(self.name)
        # what this runner's name held when its process died is its own to take back now; on a
        # shared database another runner's live uploads are not
        recovered = self.queue.recover(
            expired_only=False, ran_by=self.name if self.shared else None
        )
        if recovered:
            log.info("recovered %d interrupted upload(s): %s", len(recovered), recovered)
        swept = sweep_archives(
            self.paths.archives_dir,
            keep_archives=self.config.limits.keep_archives,
            builds_may_run=False,
        )
        if swept:
            log.info("removed %d archive(s) no upload needs", len(swept))
        self.metrics.start_session()
        self.metrics.prune_samples()
        for host_id in self.enabled_hosts():
            self.hosts[host_id] = HostRuntime(
                self.registry.specs[host_id],
                self.config.host(host_id),
                self.paths,
                self.config.ca_bundle,
            )
        # every event exists before the doorbell can ring them
        self._wake = {
            h: [threading.Event() for _ in range(rt.max_connections)]
            for h, rt in self.hosts.items()
        }
        self._doorbell = (
            PgDoorbell(self.db, self.wake) if self.shared else Doorbell(self.paths, self.wake)
        )
        for host_id, events in self._wake.items():
            for n, event in enumerate(events, 1):
                self._spawn(
                    lambda h=host_id, e=event: self._connection(h, e), f"host-{host_id}-{n}"
                )
        self._spawn(self._ticker, "ticker")

    def _record_journal(self, completions: list) -> None:
        """Links an earlier run got but could not write: record them before any lease is taken
        back, or those files would be sent a second time."""
        for c in completions:
            try:
                self.queue.complete(c.upload_id, c.url, c.file_id, lease=c.lease)
            except IllegalTransition as exc:
                log.warning(
                    "link of upload %s from an earlier run (%s): %s", c.upload_id, c.url, exc
                )
                continue
            row = self.queue.get(c.upload_id)
            self.metrics.record_upload_success(
                row.host_name, row.item_id, c.upload_id, c.seconds, c.nbytes,
                c.nbytes / c.seconds, row.retry_count,
            )  # fmt: skip
            log.info("recorded the link of upload %s from an earlier run: %s", c.upload_id, c.url)
        if completions:
            self.unsaved.write_journal()

    def keep_unsaved(self, outcome: Outcome, reason: BaseException) -> None:
        """An upload's outcome met a database that takes no writes: keep it, retry it each tick."""
        log.error("cannot record upload %s yet (%s); retrying", outcome.upload_id, reason)
        self.unsaved.keep(outcome, reason)
        self._show_trouble()

    def _show_trouble(self) -> None:
        """One event when database trouble starts, changes or ends, not one per failed write."""
        trouble = self.unsaved.trouble
        shown = (trouble.message, trouble.outcomes) if trouble else None
        with self._lock:
            if shown == self._trouble_shown:
                return
            self._trouble_shown = shown
        if shown is None:
            self.emit(DatabaseTrouble(None, 0))
        else:
            self.emit(DatabaseTrouble(*shown, hint=UNREACHABLE_HINT if self.shared else FULL_HINT))

    def stop(self, timeout: float = 10.0) -> None:
        """Abort running transfers, give them back to the queue, and wait for the threads."""
        with self._lock:  # under the lock: no claim can slip in after this
            self._stopping.set()
            jobs = list(self._active.values())
        for job in jobs:
            job.active.abort = Abort.SHUTDOWN
        self.wake()
        self._finished.wait(timeout)
        if self._doorbell:
            self._doorbell.close()
        if self._runner_lock.held:
            self._guarded(self._say_stopped)
        self._release_locks()

    def _say_stopped(self) -> None:
        """Said twice if need be: this thread's first statement after the server dropped its
        connection meets the loss (docs/architecture.md, 'Two databases')."""
        try:
            self.runners.stopped(self.name)
        except peewee.OperationalError:
            self.runners.stopped(self.name)

    def _release_locks(self) -> None:
        if self._name_lock is not None:
            self._name_lock.release()
        self._runner_lock.release()

    def enabled_hosts(self) -> list[str]:
        return [h for h in self.registry.specs if self.config.host(h).enabled]

    def wake(self) -> None:
        """New work, a user action or a stop: every connection thread looks, the ticker checks rows."""
        self._wake_connections()
        self._tick_now.set()

    def _wake_connections(self) -> None:
        for events in self._wake.values():
            for event in events:
                event.set()

    def emit(self, event: Event) -> None:
        try:
            self._sink(event)
        except Exception:  # a broken face must not break uploads
            log.exception("event sink failed on %r", event)

    def count(self, what: str) -> None:
        with self._lock:
            self.counters[what] += 1

    # ---- views for the faces ----------------------------------------------------------------

    def active(self, snap: BandwidthSnapshot | None = None) -> list[ActiveTransfer]:
        """Running transfers, each with its rate from the meter (docs/architecture.md, 'The speed
        meter'); pass the `snap` the host states are read from, and rows and hosts agree."""
        with self._lock:
            jobs = [j for j in self._active.values() if j.active.abort != Abort.SUPERSEDED]
        rates = (snap or self.meter.snapshot()).uploads
        return [
            ActiveTransfer(
                j.job.id,
                j.job.item_id,
                j.job.host,
                j.active.shown_phase,
                j.active.uploaded,
                j.active.total,
                rates.get(j.job.id, 0.0),
            )
            for j in jobs
        ]

    def host_states(self, snap: BandwidthSnapshot | None = None) -> dict[str, HostState]:
        with self._lock:
            running = Counter(j.job.host for j in self._active.values())
        now = time.time()
        rates = (snap or self.meter.snapshot()).hosts
        return {
            h: HostState(
                h,
                running[h],
                rt.backoff_until if rt.backoff_until and rt.backoff_until > now else None,
                rt.auth_failing,
                rates.get(h, 0.0),
            )
            for h, rt in self.hosts.items()
        }

    def busy(self) -> bool:
        with self._lock:
            return bool(self._active)

    def running_leases(self) -> list[str]:
        """The lease of every attempt still running (a paused row may be one: see pause())."""
        with self._lock:
            return list(self._active)

    # ---- connection threads -----------------------------------------------------------------

    def _connection(self, host_id: str, wake: threading.Event) -> None:
        """One of a host's connections: whenever free, claim the host's next due upload and run it
        here, on this thread's pycurl handle, whose open connection the previous upload left."""
        runtime = self.hosts[host_id]
        look_first = True
        try:
            while True:
                wake.clear()  # before the check: stop() sets _stopping first, then wakes us
                if self._stopping.is_set():
                    return
                try:
                    job = self._claim_next(host_id, runtime, look_first)
                    if job is not None:
                        self._run_job(job)
                        # more is likely due: claim straight away, without a read first
                        look_first = False
                        continue
                    look_first = True
                    timeout = self._sleep_for(host_id, runtime)
                except Exception as exc:  # e.g. the database stayed locked: keep the thread alive
                    look_first = True
                    if is_disk_full(exc) or isinstance(exc, DatabaseUnreachable):
                        self.unsaved.note_trouble(exc)
                        self._show_trouble()
                    else:
                        log.exception("worker for %s could not read the queue; retrying", host_id)
                    timeout = LOOP_ERROR_WAIT_S
                if self.shared:  # a sleeping thread holds no server connection: many runners
                    self.db.close()  # share one server's connection limit
                wake.wait(timeout)
        finally:
            self.db.close()  # this thread's connection; the thread ends here
            close_thread_transfers()

    def _claim_next(self, host_id: str, runtime: HostRuntime, look_first: bool) -> UploadJob | None:
        """The next upload this connection may run now, claimed; None when there is none, the host
        asked to slow down, or every global slot is taken (a release wakes this thread then).

        `look_first` asks for a due row with a plain read before claiming, so idle hosts never
        take the write lock; right after an upload more is likely due, and the read is skipped."""
        if runtime.claimable_at() > time.time():
            return None
        # look before taking a global slot: idle hosts must not hold slots even briefly, or a
        # host with work would find none free and sleep as if the limit were reached
        if look_first and not self.queue.has_due(host_id, self.name):
            return None
        if not self._take_slot():
            return None
        try:
            claimed = self.queue.claim(
                host_id, self.owner, runner=self.name, max_connections=runtime.max_connections
            )
        except HostAtCapacity:
            runtime.full_until = time.time() + FULL_WAIT_S
            self._give_slot()
            return None
        except BaseException:
            self._give_slot()
            raise
        if claimed is None:  # paused or cancelled since we looked, or the queue ran dry
            self._give_slot()
            return None
        if self.unsaved.trouble is not None:
            self.unsaved.clear_trouble()  # the database takes writes again
            self._show_trouble()
        return self._register(runtime, claimed)

    def _take_slot(self) -> bool:
        with self._lock:
            if self._free_slots > 0:
                self._free_slots -= 1
                return True
            self._slot_wanted = True
            return False

    def _give_slot(self) -> None:
        """Return a global slot; if a connection thread (of any host) found none, wake them all."""
        with self._lock:
            self._free_slots += 1
            wanted, self._slot_wanted = self._slot_wanted, False
        if wanted:
            self._wake_connections()

    def _register(self, runtime: HostRuntime, claimed: ClaimedUpload) -> UploadJob | None:
        """The claimed upload as a job the ticker and stop() can see; None (row given back) when
        the engine is stopping."""
        with self._lock:
            if self._stopping.is_set():
                job = None
            else:
                earlier = next((j for j in self._active.values() if j.job.id == claimed.id), None)
                if earlier is not None:  # paused and resumed before the ticker saw it
                    earlier.active.abort = Abort.SUPERSEDED
                job = UploadJob(self._job_context, runtime, claimed, predecessor=earlier)
                self._active[claimed.lease] = job
                self._finished.clear()
        if job is None:
            self.queue.requeue(claimed.id, lease=claimed.lease)
            self._give_slot()
        return job

    def _run_job(self, job: UploadJob) -> None:
        try:
            job.run()
        finally:
            with self._lock:
                self._active.pop(job.job.lease, None)
                if not any(j.job.id == job.job.id for j in self._active.values()):
                    self.meter.forget(job.job.id)
                if not self._active:
                    self._finished.set()
            self._give_slot()

    def _sleep_for(self, host_id: str, runtime: HostRuntime) -> float:
        due = self.queue.next_due_ts(host_id, self.name)
        if due is None:
            return IDLE_WAKE_S
        due = max(due, runtime.claimable_at())
        return min(IDLE_WAKE_S, max(0.01, due - time.time()))

    # ---- ticker: progress, control plane, bandwidth -----------------------------------------

    def _ticker(self) -> None:
        due = dict.fromkeys(("db", "sample", "recover", "beat"), time.monotonic())
        recover_every = min(RECOVER_EVERY_S, self.queue.lease_seconds)
        while not self._stopping.is_set():
            forced = self._tick_now.wait(TICK_S)
            self._tick_now.clear()
            now = time.monotonic()
            with self._lock:
                jobs = [j for j in self._active.values() if j.active.abort != Abort.SUPERSEDED]
            self._emit_progress(jobs)
            # each step's next time is set before it runs: a failing step neither repeats at
            # the tick rate nor stops the others
            if forced or now >= due["db"]:
                due["db"] = now + DB_EVERY_S
                self._guarded(self._write_unsaved)
                self._guarded(self._sync_with_db, jobs)
            if now >= due["sample"]:
                due["sample"] = now + SAMPLE_EVERY_S
                self._guarded(self._sample_bandwidth)
            if now >= due["recover"]:
                due["recover"] = now + recover_every
                self._guarded(self._recover_expired)
            if now >= due["beat"]:
                due["beat"] = now + HEARTBEAT_EVERY_S
                self._guarded(self._heartbeat, len(jobs))

    def _heartbeat(self, running: int) -> None:
        """A write every few seconds: once one goes through, the database takes writes again."""
        self.runners.heartbeat(self.name, running, self.meter.rate())
        if self.unsaved.trouble is not None:
            self.unsaved.clear_trouble()
            self._show_trouble()

    def _write_unsaved(self) -> None:
        if not len(self.unsaved):
            return
        saved = self.unsaved.retry()
        if saved:
            log.info("recorded %d upload outcome(s) that waited for the database", len(saved))
        self._show_trouble()

    def _recover_expired(self) -> None:
        self.queue.recover(keep=self.unsaved.leases())

    def _guarded(self, step: Callable[..., object], *args: object) -> None:
        try:
            step(*args)
        except DatabaseUnreachable as exc:  # the database logged it, once per attempt
            self.unsaved.note_trouble(exc)
            self._show_trouble()
        except Exception:  # a locked database must not stop progress and control for good
            log.exception("engine step %s failed; it runs again on its next tick", step.__name__)

    def _emit_progress(self, jobs: list[UploadJob]) -> None:
        """One snapshot of the meter for every upload's event; an upload that sends nothing now
        (its last byte went, or it waits for the host) drops out of the rates first."""
        for j in jobs:
            if not j.active.sending:
                self.meter.settle(j.job.id)
        rates = self.meter.snapshot().uploads
        for j in jobs:
            a = j.active
            rate = rates.get(j.job.id, 0.0)
            self.emit(
                UploadProgress(j.job.id, j.job.item_id, j.job.host, a.uploaded, a.total, rate)
            )

    def _sample_bandwidth(self) -> None:
        snap = self.meter.snapshot()
        self.metrics.record_bandwidth_samples(
            {h: v for h, v in snap.hosts.items() if v > 0}, time.time()
        )

    def _sync_with_db(self, jobs: list[UploadJob]) -> None:
        """Report bandwidth, write progress that changed, renew leases, and stop any transfer whose
        row was paused, cancelled or taken by a newer attempt (from this or another process)."""
        snap = self.meter.snapshot()
        for host in self.hosts:
            self.emit(BandwidthUpdated(host, snap.hosts.get(host, 0.0)))
        self.emit(BandwidthUpdated(None, snap.total))
        now = time.monotonic()
        for j in jobs:
            a = j.active
            if (
                a.uploaded != a.sent_at_last_write
                or now - a.last_write > self.queue.lease_seconds / 3
            ):
                with contextlib.suppress(peewee.OperationalError):
                    self.queue.progress(j.job.id, a.uploaded, j.job.lease)
                a.sent_at_last_write, a.last_write = a.uploaded, now
        holders = self.queue.holders(j.job.id for j in jobs)
        for j in jobs:
            status, holder = holders.get(j.job.id, (None, None))
            if j.active.abort is not None:
                continue
            if holder == j.job.lease and (status == Status.UPLOADING or j.active.sent_all):
                continue  # paused once every byte was sent: let it fetch its link and complete
            j.active.abort = {
                Status.PAUSED: Abort.PAUSED,
                Status.CANCELLED: Abort.CANCELLED,
            }.get(status, Abort.SUPERSEDED)
            self.meter.settle(j.job.id)  # stopped by the user: out of the rates before it ends


def engine_threads(registry: SpecRegistry, config: Config) -> int:
    """Threads an engine holds through `spawn` for its whole life: the connection threads of every
    enabled host, and the ticker (the TUI sizes its thread pool by this)."""
    enabled = [h for h in registry.specs if config.host(h).enabled]
    return 1 + sum(connection_count(registry.specs[h], config.host(h)) for h in enabled)


def _thread_spawn(target: Callable[[], None], name: str) -> None:
    threading.Thread(target=target, name=name, daemon=True).start()
