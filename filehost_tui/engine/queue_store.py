"""QueueStore: the only code that changes upload rows (docs/architecture.md, 'Transitions').

Every status change runs in one IMMEDIATE transaction (on PostgreSQL, one that locks the row: see
docs/architecture.md, 'Two databases') that re-reads the row, asks the state table for the target
status and writes it; an illegal transition raises and changes nothing.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import peewee

from filehost_tui.engine.archive import fingerprint as folder_fingerprint
from filehost_tui.engine.archive import folder_summary
from filehost_tui.engine.models import FileHostUpload, Item
from filehost_tui.engine.pg_database import HOST_LOCK_CLASS, is_postgres
from filehost_tui.engine.states import Action, IllegalTransition, Status, target
from filehost_tui.engine.volumes import HostLimit, volume_ranges
from filehost_tui.engine.zip_stream import plan_folder
from filehost_tui.errors import ErrorKind, UploadError, UserError
from filehost_tui.file_names import name_text
from filehost_tui.units import human_size

# what claim() reads: the row's state and what the upload needs of its item
_CLAIM_COLUMNS = (
    FileHostUpload.id, FileHostUpload.status, FileHostUpload.total_bytes,
    FileHostUpload.retry_count, FileHostUpload.zip_path, FileHostUpload.item,
    FileHostUpload.volume, FileHostUpload.volumes, FileHostUpload.volume_offset,
    Item.id, Item.path, Item.name, Item.kind, Item.fingerprint,
)  # fmt: skip
ANY_RUNNER = ""  # the `runner` of an upload any runner may take (added --anywhere)
MAX_BACKOFF_S = 600.0
MAX_RETRY_AFTER_S = 3600.0


@dataclass(frozen=True)
class ClaimedUpload:
    id: int
    item_id: int
    host: str
    path: Path
    name: str
    kind: str
    fingerprint: str
    total_bytes: int
    retry_count: int
    zip_path: str | None
    lease: str  # this attempt's token in lease_owner: only its holder may finish the row
    volume: int = 0  # 1..volumes: this row sends bytes [volume_offset, +total_bytes) of the item
    volumes: int = 0
    volume_offset: int = 0


@dataclass(frozen=True)
class _NewItem:
    path: Path
    name: str
    kind: str
    size: int
    file_count: int
    fingerprint: str
    upload_size: int  # bytes sent: the file, or the folder's ZIP


def _batches(items: Sequence[_NewItem], size: int = 500) -> Iterable[Sequence[_NewItem]]:
    """Slices small enough for SQLite's limit on bound values per statement."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _cut(item: _NewItem, limit: HostLimit | None) -> bool:
    """Whether the item goes up as volumes: it is over the limit, and it is a folder or the
    user lets files be split (`[limits] split_files`)."""
    if limit is None or limit.volume_size is None or item.upload_size <= limit.volume_size:
        return False
    return item.kind == "folder" or limit.split_files


def _check_fits(item: _NewItem, host: str, limit: HostLimit | None) -> None:
    """A file the user will not have split must fit the host whole; say so before queueing."""
    if limit is None or _cut(item, limit) or limit.accepts is None:
        return
    if item.upload_size > limit.accepts:
        raise UserError(
            f"{item.path}: {human_size(item.upload_size)} is over {limit.describe(host)} "
            "and split_files = false under [limits] in config.toml; pick another host, or "
            "remove that line to send it as volumes"
        )


def _volumes(item: _NewItem, limit: HostLimit | None) -> list[tuple[int, int, int, int]]:
    """(volume, volumes, offset, length) of each row: one for the whole item, or one per
    volume when the item is larger than the host takes."""
    if not _cut(item, limit):
        return [(0, 0, 0, item.upload_size)]
    assert limit is not None and limit.volume_size is not None
    ranges = volume_ranges(item.upload_size, limit.volume_size)
    return [(n, len(ranges), off, size) for n, (off, size) in enumerate(ranges, start=1)]


def file_fingerprint(path: Path) -> str:
    st = path.stat()
    return hashlib.sha256(f"{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()


class HostAtCapacity(Exception):
    """The host's max_connections uploads are running already, counted over every runner."""


class QueueStore:
    def __init__(
        self,
        db: peewee.Database,
        *,
        host_limits: Mapping[str, HostLimit | None] | None = None,
        clock: Callable[[], float] = time.time,
        lease_seconds: float = 30.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        """`host_limits` maps each known host id to what it takes in one piece (None = no
        limit); larger items are queued as volumes (engine/volumes.py)."""
        self.db = db
        self.host_limits = host_limits if host_limits is not None else {}
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.jitter = jitter

    # ---- adding work -------------------------------------------------------------------------

    def add(
        self,
        paths: Sequence[str | Path],
        hosts: Sequence[str],
        name: str | None = None,
        *,
        runner: str = ANY_RUNNER,
    ) -> list[int]:
        """Queue each path for each host, for the runner named `runner` to take (ANY_RUNNER: any);
        validates everything first and writes nothing on bad input."""
        if not paths:
            raise UserError("nothing to add: name at least one file or folder")
        if not hosts:
            raise UserError("no host given: add --host ID (see `filehost-tui hosts`)")
        for host in hosts:
            if host not in self.host_limits:
                known = ", ".join(sorted(self.host_limits)) or "none"
                raise UserError(f"unknown host {host!r}; known hosts: {known}")
        if len(set(hosts)) != len(hosts):
            raise UserError("the same --host is given twice; name each host once")
        if name is not None and len(paths) > 1:
            raise UserError("--name works with one path at a time; add the paths separately")
        items = [self._inspect(Path(p), name) for p in paths]
        seen: set[Path] = set()
        for item in items:
            if item.path in seen:
                raise UserError(f"{item.path} is given twice; name each path once")
            seen.add(item.path)
        limits = {host: self.host_limits.get(host) for host in hosts}  # one look each per add
        for item in items:
            for host, limit in limits.items():
                _check_fits(item, host, limit)
        with self.db.atomic():
            self._check_not_queued([item.path for item in items], hosts)
            return self._insert_rows(items, limits, runner)

    def _insert_rows(
        self, items: Sequence[_NewItem], limits: Mapping[str, HostLimit | None], runner: str
    ) -> list[int]:
        """Rows for many paths in a few statements, 500 paths a statement (a statement a row
        made `add` of thousands of small files take seconds); ids in the order of items, then
        hosts, then volumes."""
        ids: list[int] = []
        for batch in _batches(items):
            now = self.clock()
            made = (
                Item.insert_many(
                    [
                        dict(path=str(i.path), name=i.name, kind=i.kind, total_size=i.size,
                             file_count=i.file_count, fingerprint=i.fingerprint, created_ts=now)
                        for i in batch
                    ]
                )
                .returning(Item.id, Item.path)
                .execute()
            )  # fmt: skip
            item_ids = {row.path: row.id for row in made}  # a path is in one add once
            uploads = [
                dict(item=item_ids[str(i.path)], host_name=host, volume=volume, volumes=volumes,
                     volume_offset=offset, total_bytes=length, created_ts=now, runner=runner)
                for i in batch
                for host, limit in limits.items()
                for volume, volumes, offset, length in _volumes(i, limit)
            ]  # fmt: skip
            made_uploads = (
                FileHostUpload.insert_many(uploads)
                .returning(
                    FileHostUpload.id,
                    FileHostUpload.item,
                    FileHostUpload.host_name,
                    FileHostUpload.volume,
                )
                .execute()
            )
            by_key = {(r.item_id, r.host_name, r.volume): r.id for r in made_uploads}
            ids += [by_key[(u["item"], u["host_name"], u["volume"])] for u in uploads]
        return ids

    def _inspect(self, path: Path, name: str | None) -> _NewItem:
        path = path.expanduser().absolute()
        if not path.exists():
            raise UserError(f"{path}: no such file or folder; check the path")
        try:
            if path.is_dir():
                try:
                    size, count = folder_summary(path)
                except UploadError as exc:
                    raise UserError(f"{path}: {exc.message}") from None
                if count == 0:
                    raise UserError(f"{path}: the folder is empty; add files to it or pick another")
                with os.scandir(path):
                    pass
                fingerprint = folder_fingerprint(path)
                try:
                    upload_size = plan_folder(path).size
                except UploadError as exc:
                    raise UserError(f"{path}: {exc.message}") from None
                return _NewItem(
                    path,
                    name_text(name or path.name),
                    "folder",
                    size,
                    count,
                    fingerprint,
                    upload_size,
                )
            if not path.is_file():
                raise UserError(f"{path}: not a regular file or folder; add files or folders only")
            with path.open("rb") as fh:
                fh.read(1)
            size = path.stat().st_size
        except PermissionError:
            raise UserError(
                f"{path}: permission denied; make it readable, then add it again"
            ) from None
        except OSError as exc:
            raise UserError(f"{path}: cannot read it ({exc.strerror}); check the path") from None
        if size == 0:
            raise UserError(f"{path}: the file is empty; hosts refuse empty files")
        return _NewItem(
            path, name_text(name or path.name), "file", size, 1, file_fingerprint(path), size
        )

    def _check_not_queued(self, paths: Sequence[Path], hosts: Iterable[str]) -> None:
        """A path may be queued again once its earlier upload ended completed (links die, and
        re-uploading is common) or cancelled; otherwise name the command that acts on it. Asked
        for a page of paths at a time: `add --from` may bring a hundred thousand."""
        names = [str(p) for p in paths]
        for start in range(0, len(names), 500):
            existing = (
                FileHostUpload.select(
                    FileHostUpload.id, FileHostUpload.host_name, FileHostUpload.status, Item.path
                )
                .join(Item)
                .where(
                    Item.path.in_(names[start : start + 500])
                    & FileHostUpload.host_name.in_(list(hosts))
                    & FileHostUpload.status.not_in([Status.CANCELLED, Status.COMPLETED])
                )
                .order_by(FileHostUpload.id)
                .first()
            )
            if existing:
                hint = {
                    Status.PAUSED: f"`filehost-tui resume {existing.id}` continues it",
                    Status.FAILED: f"`filehost-tui retry {existing.id}` tries it again",
                }.get(existing.status, "`filehost-tui status` says where it stands")
                raise UserError(
                    f"{existing.item.path} is already queued for {existing.host_name} as upload "
                    f"{existing.id} ({existing.status}); {hint}"
                )

    # ---- worker side ------------------------------------------------------------------------

    def claim(
        self,
        host: str,
        owner: str,
        *,
        runner: str = ANY_RUNNER,
        max_connections: int | None = None,
    ) -> ClaimedUpload | None:
        """Move the oldest due pending row of `host` that runner `runner` may take to uploading
        with a lease, atomically. With `max_connections`, raise HostAtCapacity instead when that
        many uploads of the host already run, on any runner: the count and the claim are one
        transaction (docs/architecture.md, 'Limits across runners').

        On SQLite this takes the write lock; on PostgreSQL it locks the row it takes and skips
        rows other claimers hold, and takes a lock per host for the count. A caller polling an
        idle host asks has_due() first."""
        now = self.clock()
        lease = f"{owner}/{uuid.uuid4().hex[:12]}"
        with self.db.atomic():
            row = self._first_due(host, runner)
            if row is None:
                return None
            if max_connections is not None:
                self._one_claim_per_host(host)
                if self._running(host, now) >= max_connections:
                    raise HostAtCapacity(host)
            self._write(
                row,
                Action.CLAIM,
                lease_owner=lease,
                lease_expires_ts=now + self.lease_seconds,
                started_ts=now,
                uploaded_bytes=0,
                ran_by=runner,
            )
        item = row.item
        return ClaimedUpload(
            id=row.id,
            item_id=item.id,
            host=host,
            path=Path(item.path),
            name=item.name,
            kind=item.kind,
            fingerprint=item.fingerprint,
            total_bytes=row.total_bytes,
            retry_count=row.retry_count,
            zip_path=row.zip_path,
            lease=lease,
            volume=row.volume,
            volumes=row.volumes,
            volume_offset=row.volume_offset,
        )

    def has_due(self, host: str, runner: str = ANY_RUNNER) -> bool:
        """Whether `host` has a pending row that runner `runner` may claim now (a read, no lock)."""
        u = FileHostUpload
        return (
            u.select(u.id)
            .where((u.host_name == host) & (u.status == Status.PENDING))
            .where(u.runner.in_(_takers(runner)) & (u.next_attempt_ts <= self.clock()))
            .exists()
        )

    def _first_due(self, host: str, runner: str) -> FileHostUpload | None:
        """The oldest due row of `host` for `runner`: its own first and anyone's, each the first
        row of one ordered index range (an OR of both would sort every due row)."""
        rows = [
            row
            for name in _takers(runner)
            if (row := self._locked(self._due(host, name), skip=True).first())
        ]
        return min(rows, key=lambda r: (r.next_attempt_ts, r.id), default=None)

    def _due(self, host: str, runner: str, *columns: peewee.Field) -> peewee.ModelSelect:
        """Due rows of `host` assigned to `runner`, oldest first; only the columns a claim needs
        unless told (building the SQL of every column costs more than running it, once per
        upload of small files)."""
        u = FileHostUpload
        return (
            u.select(*columns or _CLAIM_COLUMNS)
            .join(Item)
            .where(
                (FileHostUpload.host_name == host)
                & (FileHostUpload.status == Status.PENDING)
                & (FileHostUpload.runner == runner)
                & (FileHostUpload.next_attempt_ts <= self.clock())
            )
            .order_by(FileHostUpload.next_attempt_ts, FileHostUpload.id)
        )

    def _one_claim_per_host(self, host: str) -> None:
        """Claims of one host, on every runner, count and write one after another: on SQLite the
        write lock does it; PostgreSQL takes a transaction-level advisory lock on the host."""
        if is_postgres(self.db):
            self.db.execute_sql(  # this queue's host: the schema is part of the key
                "SELECT pg_advisory_xact_lock(?, hashtext(current_schema() || '/' || ?))",
                (HOST_LOCK_CLASS, host),
            )

    def _running(self, host: str, now: float) -> int:
        """Uploads of `host` running on any runner: uploading under a lease not yet expired."""
        u = FileHostUpload
        return (
            u.select(peewee.fn.COUNT(u.id))
            .where((u.host_name == host) & (u.status == Status.UPLOADING))
            .where(u.lease_expires_ts > now)
            .scalar()
        )

    def next_due_ts(self, host: str, runner: str = ANY_RUNNER) -> float | None:
        """When the next pending row of `host` that `runner` may take becomes claimable (None
        when there is none)."""
        u = FileHostUpload
        times = [
            u.select(peewee.fn.MIN(u.next_attempt_ts))
            .where((u.host_name == host) & (u.status == Status.PENDING) & (u.runner == name))
            .scalar()
            for name in _takers(runner)
        ]
        return min((t for t in times if t is not None), default=None)

    def set_archive(self, upload_id: int, zip_path: str | None, total_bytes: int) -> None:
        FileHostUpload.update(zip_path=zip_path, total_bytes=total_bytes).where(
            FileHostUpload.id == upload_id
        ).execute()

    def progress(self, upload_id: int, uploaded: int, lease: str) -> None:
        """Record bytes sent and renew the lease, while this attempt still holds the row."""
        FileHostUpload.update(
            uploaded_bytes=uploaded, lease_expires_ts=self.clock() + self.lease_seconds
        ).where(
            (FileHostUpload.id == upload_id)
            & (FileHostUpload.status == Status.UPLOADING)
            & (FileHostUpload.lease_owner == lease)
        ).execute()

    def holders(self, upload_ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
        """(status, lease_owner) of each row: a worker must stop when its row is no longer
        uploading (paused, cancelled) or another attempt holds it (paused and resumed at once)."""
        ids = list(upload_ids)
        rows = FileHostUpload.select(
            FileHostUpload.id, FileHostUpload.status, FileHostUpload.lease_owner
        ).where(FileHostUpload.id.in_(ids))
        return {r.id: (r.status, r.lease_owner) for r in rows} if ids else {}

    def complete(
        self, upload_id: int, url: str, file_id: str | None, lease: str | None = None
    ) -> None:
        """`lease`, when given, must still hold the row (the engine always gives it)."""
        if not url:
            raise ValueError("an upload without a link is a failure, not a completion")
        with self.db.atomic():
            row = self._held(upload_id, lease, Action.COMPLETE)
            self._write(
                row,
                Action.COMPLETE,
                download_url=url,
                file_id=file_id,
                uploaded_bytes=row.total_bytes,
                finished_ts=self.clock(),
                error_kind=None,
                error_message=None,
                lease_owner=None,
                lease_expires_ts=None,
            )

    def fail(
        self,
        upload_id: int,
        kind: ErrorKind,
        message: str,
        *,
        retryable: bool,
        max_retries: int,
        base_delay: float,
        retry_after: float | None = None,
        lease: str | None = None,
    ) -> Status:
        """Schedule a retry with backoff while retries are left, else end `failed`."""
        with self.db.atomic():
            row = self._held(upload_id, lease, Action.FAIL)
            common = dict(
                error_kind=str(kind), error_message=message, lease_owner=None, lease_expires_ts=None
            )
            if retryable and row.retry_count < max_retries:
                delay = self.backoff(row.retry_count, base_delay, retry_after)
                return self._write(
                    row,
                    Action.RETRY_LATER,
                    retry_count=row.retry_count + 1,
                    next_attempt_ts=self.clock() + delay,
                    **common,
                )
            return self._write(row, Action.FAIL, finished_ts=self.clock(), **common)

    def backoff(self, retry_count: int, base_delay: float, retry_after: float | None) -> float:
        """Exponential with jitter, like curl's --retry; a host's Retry-After wins when it is longer."""
        exp = min(MAX_BACKOFF_S, base_delay * (2**retry_count)) * (0.5 + self.jitter() / 2)
        if retry_after is not None:
            return max(exp, min(retry_after, MAX_RETRY_AFTER_S))
        return exp

    def requeue(self, upload_id: int, lease: str | None = None) -> None:
        """Give an interrupted transfer back to the queue without counting it as a retry."""
        with self.db.atomic():
            row = self._locked(FileHostUpload.select().where(FileHostUpload.id == upload_id)).get()
            if row.status == Status.UPLOADING and lease in (None, row.lease_owner):
                self._write(row, Action.REQUEUE, lease_owner=None, lease_expires_ts=None)

    def recover(
        self, *, expired_only: bool = True, keep: Iterable[str] = (), ran_by: str | None = None
    ) -> list[int]:
        """Return rows stuck in `uploading` (their runner died) to pending. Without `expired_only`,
        every leased row is taken back: only safe for the process holding the runner lock; with
        `ran_by` too, only those of that runner (the one holding its name). Rows whose lease is
        in `keep` stay: their outcome is known and waits to be written."""
        now = self.clock()
        cond = FileHostUpload.status == Status.UPLOADING
        expired = FileHostUpload.lease_expires_ts.is_null() | (
            FileHostUpload.lease_expires_ts < now
        )
        if expired_only:
            cond &= expired
        elif ran_by is not None:
            cond &= expired | (FileHostUpload.ran_by == ran_by)
        kept = list(keep)
        if kept:
            cond &= FileHostUpload.lease_owner.not_in(kept)
        with self.db.atomic():
            rows = list(
                self._locked(FileHostUpload.select().where(cond).order_by(FileHostUpload.id))
            )
            for row in rows:
                self._write(row, Action.REQUEUE, lease_owner=None, lease_expires_ts=None)
        return [r.id for r in rows]

    # ---- user control -----------------------------------------------------------------------

    def pause(self, upload_id: int) -> Status:
        """The running attempt keeps its lease: if it had already sent every byte, it may still
        complete the row with its link (see the ticker), and the row keeps saying every byte was
        sent; otherwise its bytes are sent again from the start (see _write). Resume hands the
        row to a new attempt."""
        with self.db.atomic():
            row = self._row(upload_id)
            sent_all = 0 < row.total_bytes <= row.uploaded_bytes
            kept = row.uploaded_bytes if sent_all else 0
            return self._write(row, Action.PAUSE, lease_expires_ts=None, uploaded_bytes=kept)

    def drain(self, upload_id: int) -> Status:
        """Pause a row that waits (pending); a running one is refused and left to finish."""
        return self._act(upload_id, Action.DRAIN)

    def resume(self, upload_id: int) -> Status:
        return self._act(upload_id, Action.RESUME, next_attempt_ts=0.0, lease_owner=None)

    def cancel(self, upload_id: int) -> Status:
        return self._act(
            upload_id,
            Action.CANCEL,
            finished_ts=self.clock(),
            lease_owner=None,
            lease_expires_ts=None,
        )

    def retry(self, upload_id: int) -> Status:
        return self._act(
            upload_id,
            Action.RETRY,
            retry_count=0,
            next_attempt_ts=0.0,
            error_kind=None,
            error_message=None,
            finished_ts=None,
            uploaded_bytes=0,
        )

    def select_ids(
        self,
        *,
        ids: Sequence[int] = (),
        all_: bool = False,
        failed: bool = False,
        host: str | None = None,
    ) -> list[int]:
        """Resolve the CLI's `(UPLOAD_ID... | --all | --failed | --host ID)` selection."""
        query = FileHostUpload.select(FileHostUpload.id).order_by(FileHostUpload.id)
        if ids:
            found = {r.id for r in query.where(FileHostUpload.id.in_(list(ids)))}
            missing = [i for i in ids if i not in found]
            if missing:
                raise UserError(f"no upload with id {missing[0]}; see `filehost-tui status`")
            return list(ids)
        if failed:
            query = query.where(FileHostUpload.status == Status.FAILED)
        if host:
            query = query.where(FileHostUpload.host_name == host)
        if not (all_ or failed or host):
            raise UserError("say which uploads: UPLOAD_ID..., --all, --failed or --host ID")
        selected = [r.id for r in query]
        if host and not selected and host not in self.host_limits:
            known = ", ".join(sorted(self.host_limits)) or "none"
            raise UserError(f"unknown host {host!r}; known hosts: {known}")
        return selected

    def assign(self, upload_ids: Sequence[int], runner: str) -> int:
        """Hand uploads to the runner named `runner` (ANY_RUNNER: to any runner). Only who claims
        the next attempt changes: a running attempt goes on where it runs."""
        u = FileHostUpload
        changed = 0
        for start in range(0, len(upload_ids), 500):
            page = list(upload_ids[start : start + 500])
            changed += u.update(runner=runner).where(u.id.in_(page)).execute()
        return changed

    # ---- reading ----------------------------------------------------------------------------

    def get(self, upload_id: int) -> FileHostUpload:
        return (
            FileHostUpload.select(FileHostUpload, Item)
            .join(Item)
            .where(FileHostUpload.id == upload_id)
            .get()
        )

    def uploads(
        self, *, item_id: int | None = None, ids: Sequence[int] | None = None
    ) -> list[FileHostUpload]:
        """All uploads, or those of one item, or those with the given ids (read as the range of
        ids they span, so thousands of ids cost one indexed read, not the whole queue)."""
        query = FileHostUpload.select(FileHostUpload, Item).join(Item).order_by(FileHostUpload.id)
        if item_id is not None:
            query = query.where(Item.id == item_id)
        if ids is not None:
            if not ids:
                return []
            wanted = set(ids)
            query = query.where(FileHostUpload.id.between(min(wanted), max(wanted)))
            return [u for u in query if u.id in wanted]
        return list(query)

    # ---- the one place rows change status ---------------------------------------------------

    def _held(self, upload_id: int, lease: str | None, action: Action) -> FileHostUpload:
        u = FileHostUpload
        row = self._locked(
            u.select(u.id, u.status, u.lease_owner, u.total_bytes, u.retry_count).where(
                u.id == upload_id
            )
        ).get()
        # A paused row may be finished only by the attempt that was sending it; a lease-less call
        # (tests finishing a row by hand) may finish an uploading row only.
        must_hold = lease is not None or row.status == Status.PAUSED
        if must_hold and (lease is None or row.lease_owner != lease):
            raise IllegalTransition(
                upload_id, f"{row.status} (no longer held by this attempt)", action
            )
        return row

    def _act(self, upload_id: int, action: Action, **changes: object) -> Status:
        with self.db.atomic():
            return self._write(self._row(upload_id), action, **changes)

    def _row(self, upload_id: int) -> FileHostUpload:
        """The row, locked until the transaction ends (see _locked)."""
        query = FileHostUpload.select().where(FileHostUpload.id == upload_id)
        row = self._locked(query).get_or_none()
        if row is None:
            raise UserError(f"no upload with id {upload_id}; see `filehost-tui status`")
        return row

    def _locked(self, query: peewee.ModelSelect, *, skip: bool = False) -> peewee.ModelSelect:
        """The rows `query` reads, locked until the transaction ends where the database locks rows
        (PostgreSQL; SQLite's transaction already holds the whole database): a status re-read
        inside a transaction stays true until its write. `skip` passes over rows another
        transaction holds instead of waiting for them (claims)."""
        if not self.db.for_update:
            return query
        return query.for_update(of=FileHostUpload, skip_locked=skip)

    def _write(self, row: FileHostUpload, action: Action, **changes: object) -> Status:
        """A row that goes back to waiting (pending, paused) counts the bytes the next attempt
        will not send again: none, since no host takes the rest of a partial upload
        (docs/architecture.md, 'Pause and drain')."""
        new = target(row.id, row.status, action)
        if new in (Status.PENDING, Status.PAUSED):
            changes.setdefault("uploaded_bytes", 0)
        updated = (
            FileHostUpload.update(status=new, **changes)
            .where((FileHostUpload.id == row.id) & (FileHostUpload.status == row.status))
            .execute()
        )
        if updated != 1:
            raise IllegalTransition(row.id, "changed meanwhile", action)
        row.status = new
        for key, value in changes.items():
            setattr(row, key, value)
        return new


def _takers(runner: str) -> tuple[str, ...]:
    """The `runner` values of rows the runner named `runner` may claim: its own and anyone's."""
    return (runner, ANY_RUNNER) if runner != ANY_RUNNER else (ANY_RUNNER,)
