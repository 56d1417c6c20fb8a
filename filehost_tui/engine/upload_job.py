"""One upload from claim to final state: archive, transfer, record, report.

See docs/architecture.md, 'How an upload moves'.

Order on success: row `completed` -> metrics success row -> UploadCompleted event. On failure:
classify -> row back to `pending` (retry) or `failed` -> metrics failure row (final only) ->
UploadFailed event. A missing link is a failure, never `completed`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import peewee

from filehost_tui.config import Config
from filehost_tui.engine.archive import ArchiveEntry
from filehost_tui.engine.archive import fingerprint as folder_fingerprint
from filehost_tui.engine.bandwidth import BandwidthMeter, RateLimiter, throttle_all
from filehost_tui.engine.database import is_disk_full
from filehost_tui.engine.events import Event, UploadCompleted, UploadFailed, UploadStarted
from filehost_tui.engine.host_runtime import HostRuntime
from filehost_tui.engine.metrics_store import MetricsStore
from filehost_tui.engine.queue_store import ClaimedUpload, QueueStore, file_fingerprint
from filehost_tui.engine.states import IllegalTransition, Status
from filehost_tui.engine.unsaved_outcomes import Completion, Outcome
from filehost_tui.engine.volumes import sent_name, volume_name
from filehost_tui.engine.zip_stream import file_range, plan_folder
from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.hosts.wire import Body, BodySource, body_size
from filehost_tui.paths import AppPaths
from filehost_tui.redact import SECRETS, scrub
from filehost_tui.units import human_size

if TYPE_CHECKING:
    from filehost_tui.hosts.client import HostClient

log = logging.getLogger("filehost_tui.engine")
T = TypeVar("T")
PREDECESSOR_WAIT_S = 10.0


class Abort(StrEnum):
    """Why a transfer was stopped from outside; the worker then leaves the row as the user set it."""

    PAUSED = "paused"
    CANCELLED = "cancelled"
    SHUTDOWN = "shutdown"
    SUPERSEDED = "superseded"  # paused and resumed at once: a newer attempt holds the row


PERSIST_WAITS_S = (0.5, 2.0, 5.0)  # retries of a final row write that met a locked database


@dataclass(frozen=True)
class JobContext:
    """What an upload needs from the engine that runs it: its stores, paths, caps and the ways it
    reports back. Nothing here knows of the other uploads."""

    paths: AppPaths
    config: Config
    queue: QueueStore
    metrics: MetricsStore
    meter: BandwidthMeter
    global_limiter: RateLimiter
    count: Callable[[str], None]
    emit: Callable[[Event], None]
    keep_unsaved: Callable[[Outcome, BaseException], None]


@dataclass
class Active:
    """In-memory state of a running upload, written by the transfer thread, read by the ticker."""

    job: ClaimedUpload
    phase: str = "preparing"
    uploaded: int = 0
    total: int = 0
    abort: Abort | None = None
    sent_at_last_write: int = -1
    last_write: float = 0.0

    @property
    def shown_phase(self) -> str:
        """The phase as the user reads it: a volume's upload says which volume it is."""
        if self.phase == "uploading" and self.job.volumes:
            return f"volume {self.job.volume}/{self.job.volumes}"
        return self.phase

    @property
    def sent_all(self) -> bool:
        """Every byte of the file is on the host; what is left is fetching the link."""
        return self.phase == "uploading" and 0 < self.total <= self.uploaded

    @property
    def sending(self) -> bool:
        """Bytes of the file are going out now: only then does the upload count in the meter."""
        return self.phase == "uploading" and not self.sent_all


class UploadJob:
    def __init__(
        self,
        context: JobContext,
        host: HostRuntime,
        job: ClaimedUpload,
        predecessor: UploadJob | None = None,
    ) -> None:
        self.ctx = context
        self.host = host
        self.job = job
        self.active = Active(job, total=job.total_bytes)
        self.done = threading.Event()
        self._predecessor = predecessor
        self.client: HostClient | None = None  # the host's client as this attempt found it

    def run(self) -> None:
        e, job = self.ctx, self.job
        if self._predecessor is not None:
            # an earlier attempt at this row is being aborted: never send the file twice at once
            self._predecessor.done.wait(PREDECESSOR_WAIT_S)
        e.emit(UploadStarted(job.id, job.item_id, job.host))
        try:
            path, filename = self._prepare()
            url, file_id, seconds = self._transfer(path, filename)
        except UploadError as exc:
            self._failed(exc)
        except peewee.OperationalError as exc:  # before a byte was sent: not the upload's fault
            log.warning("upload %s: the database went away (%s); giving it back", job.id, exc)
            requeue = partial(e.queue.requeue, job.id, lease=job.lease)
            self._record(Outcome(job.id, job.lease, [requeue]))
        except Exception as exc:  # a bug must not kill the worker or strand the row
            log.exception("upload %s failed unexpectedly", job.id)
            self._failed(
                UploadError(ErrorKind.BAD_RESPONSE, f"internal error: {exc!r}; please report it")
            )
        else:
            self._completed(url, file_id, seconds)
        finally:
            self.done.set()

    # ---- steps ------------------------------------------------------------------------------

    def _prepare(self) -> tuple[Body, str]:
        """What to send: the file, or a folder's ZIP planned afresh from the folder as it is now
        (a retry after the folder changed sends the new content); a volume sends its slice."""
        job, host = self.job, self.host
        self.client = host.client()
        host.check_recent_auth_failure()
        name = sent_name(job.kind, job.name, job.path)
        if job.volumes:
            body, name = self._volume(), volume_name(name, job.volume, job.volumes)
        elif job.kind == "folder":
            plan = plan_folder(job.path)
            body = BodySource(plan.size, plan.chunks)
        else:
            body = self._file()
        size = body_size(body)
        self.active.total = size
        if job.zip_path is not None or job.total_bytes != size:
            self.ctx.queue.set_archive(job.id, None, size)
        limit = self.ctx.queue.host_limits.get(job.host)
        if limit is not None and limit.accepts is not None and size > limit.accepts:
            # queued before the limit was known (an account check, a config change since)
            raise UploadError(
                ErrorKind.TOO_LARGE,
                f"{human_size(size)} is over {limit.describe(job.host)}; "
                + self._split_hint(limit.accepts),
            )
        return body, name

    def _split_hint(self, limit: int | None) -> str:
        """What to do about an upload too large for the host: volumes are cut at `add`, so
        the item must be queued again once the size it is cut to is right."""
        job = self.job
        where = f"under [hosts.{job.host}] in config.toml"
        what = (
            f"split_size = {limit} {where}" if limit else f"split_size {where} to a size it takes"
        )
        return f"set {what}, then cancel upload {job.id} and add {job.path} again to send it as volumes"

    def _file(self) -> Path:
        path = self.job.path
        if not path.is_file():
            raise UploadError(
                ErrorKind.NOT_FOUND, f"{path} is gone; restore it or cancel the upload"
            )
        return path

    def _volume(self) -> BodySource:
        """This row's slice of the item's bytes. Slices only fit together if every volume is cut
        from the same bytes, so the item must be as it was when it was queued."""
        job = self.job
        if job.kind == "folder":
            same = folder_fingerprint(job.path) == job.fingerprint
        else:
            same = file_fingerprint(self._file()) == job.fingerprint
        if not same:
            raise UploadError(
                ErrorKind.NOT_FOUND,
                f"{job.path} changed since it was queued as {job.volumes} volumes, which no longer "
                "fit together; restore it, or cancel it and add it again",
            )
        start, end = job.volume_offset, job.volume_offset + job.total_bytes
        if job.kind == "folder":
            plan = plan_folder(job.path)
            self.active.phase = "hashing"
            plan.read_crcs(start, end)
            ranged = plan.chunks
        else:
            st = job.path.stat()
            entry = ArchiveEntry(job.path.name, job.path, st.st_size, st.st_mtime_ns)
            ranged = partial(file_range, entry)
        return BodySource(job.total_bytes, lambda offset: ranged(start + offset, end))

    def _transfer(self, path: Body, filename: str) -> tuple[str, str | None, float]:
        self.active.phase = "uploading"
        self.active.uploaded = 0
        started = time.monotonic()
        result = self.client.upload(
            path,
            name=filename,
            progress=self._on_progress,
            max_send_speed=self._send_cap(),
            on_phase=self._on_phase,
        )
        return result.url, result.file_id, max(time.monotonic() - started, 1e-6)

    def _send_cap(self) -> int:
        """curl paces each transfer to the tighter cap; the callback's token buckets then share the
        host and global caps between concurrent transfers (pacing alone would let the kernel's
        socket buffers swallow megabytes before a bucket could react)."""
        caps = [
            c
            for c in (
                self.host.settings.max_upload_speed,
                self.ctx.config.limits.max_upload_speed,
            )
            if c
        ]
        return min(caps) if caps else 0

    def _on_phase(self, phase: str) -> None:
        self.active.phase = phase
        self.active.uploaded = 0

    def _on_progress(self, uploaded: int, total: int) -> bool:
        """pycurl's callback: O(1) bookkeeping, the bandwidth caps, and the abort flag. Bytes
        read for an MD5 are shown, but neither metered nor throttled: they are not sent."""
        active = self.active
        active.uploaded = uploaded
        if active.phase == "hashing":
            return active.abort is not None
        delta = self.ctx.meter.record(self.job.id, self.job.host, uploaded)
        if delta:
            throttle_all((self.ctx.global_limiter, self.host.limiter), delta)
        return active.abort is not None

    # ---- outcomes ---------------------------------------------------------------------------

    def _completed(self, url: str, file_id: str | None, seconds: float) -> None:
        e, job = self.ctx, self.job
        url = SECRETS.redact(url)  # only registered secrets: a signed link must stay usable
        log.info("upload %s got its link from %s: %s", job.id, job.host, url)
        nbytes = self.active.total

        def write_row_and_metrics() -> bool:
            """One commit for both: a crash between them cannot leave a completed row without
            its metrics row. retry_count is the claim's: only this attempt could have changed it."""
            try:
                with e.queue.db.atomic():
                    e.queue.complete(job.id, url, file_id, lease=job.lease)
                    e.metrics.record_upload_success(
                        job.host, job.item_id, job.id, seconds, nbytes, nbytes / seconds,
                        job.retry_count,
                    )  # fmt: skip
            except IllegalTransition as exc:
                log.warning("upload %s: %s; its link was %s", job.id, exc, url)
                return False
            return True

        def announce() -> None:
            self.host.note_success()
            e.count("completed")
            e.emit(UploadCompleted(job.id, job.item_id, job.host, url, file_id))

        outcome = Outcome(job.id, job.lease, [write_row_and_metrics, announce])
        outcome.completion = Completion(job.id, job.lease, url, file_id, seconds, nbytes)
        self._record(outcome)

    def _failed(self, exc: UploadError) -> None:
        e, job, abort = self.ctx, self.job, self.active.abort
        if abort in (Abort.PAUSED, Abort.CANCELLED, Abort.SUPERSEDED):
            return  # the user already moved the row; nothing failed
        if abort == Abort.SHUTDOWN:
            with contextlib.suppress(IllegalTransition, peewee.OperationalError):
                self._persist(lambda: e.queue.requeue(job.id, lease=job.lease))
            return  # if even that failed, the next start takes the row back
        message = scrub(exc.message)
        if exc.kind is ErrorKind.TOO_LARGE and "split_size" not in message:
            message = f"{message}; {self._split_hint(None)}"  # the host's own limit is lower
        settings = self.host.settings
        status: list[Status] = []

        def write_row() -> bool:
            try:
                status.append(
                    e.queue.fail(
                        job.id,
                        exc.kind,
                        message,
                        retryable=exc.retryable,
                        max_retries=settings.max_retries,
                        base_delay=settings.retry_delay,
                        retry_after=exc.retry_after,
                        lease=job.lease,
                    )
                )
            except IllegalTransition:
                return False  # paused or cancelled by another process just now
            return True

        def finish() -> None:
            will_retry = status[0] == Status.PENDING
            row = e.queue.get(job.id)
            if not will_retry:
                e.metrics.record_upload_failure(
                    job.host, job.item_id, job.id, message, row.retry_count, exc.retryable
                )
                e.count("failed")
            self.host.note_failure(exc, row.next_attempt_ts if will_retry else None, self.client)
            e.emit(UploadFailed(job.id, job.item_id, job.host, str(exc.kind), message, will_retry))

        self._record(Outcome(job.id, job.lease, [write_row, finish]))

    def _record(self, outcome: Outcome) -> None:
        """Write the outcome now; if the database cannot take it, the engine keeps it and retries
        (the row keeps its lease, so nothing sends the file again meanwhile)."""
        try:
            self._persist(outcome.run)
        except peewee.OperationalError as exc:
            self.ctx.keep_unsaved(outcome, exc)

    @staticmethod
    def _persist(write: Callable[[], T]) -> T:
        """Wait out a database locked past its busy timeout or a connection the server dropped;
        a full disk is not waited for here."""
        for wait in PERSIST_WAITS_S:
            try:
                return write()
            except peewee.OperationalError as exc:
                if is_disk_full(exc):
                    raise
                log.warning(
                    "the database did not take an upload's outcome (%s); retrying in %ss", exc, wait
                )
                time.sleep(wait)
        return write()
