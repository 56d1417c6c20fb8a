"""A folder's ZIP as bytes generated while they are sent, never written to disk first.

Why a data descriptor (general-purpose bit 3) after each member's data: the CRC-32 is only known
once the member has been read, and a CRC pass over a 10 GiB folder before the first byte would keep
the host waiting for minutes. Local headers therefore carry zero CRC and sizes, the descriptor
after the data carries them, and the central directory repeats them. STORE means every size is the
file's size, so the exact length of the archive is known from names and sizes alone (`ZipPlan.size`)
before anything is read: Content-Length and multipart bodies work as for a file.

Deterministic: the same folder (same names, sizes, mtimes, contents) always gives the same bytes,
so a retry sends what the first attempt sent and a host that dedupes by MD5 recognises it.

A byte range of the archive (`ZipPlan.chunks(start, end)`) needs the CRC of every member whose
descriptor or central-directory entry falls in the range; those whose data lies outside the range
are read once for their CRC (read-only, nothing is written).

Each file is checked against the plan (size, mtime_ns) when it is opened and again after it has
been read: a change fails with SOURCE_CHANGED (retried; the next attempt plans again), because
bytes already sent cannot be taken back and a half-changed archive must never be accepted.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import struct
import zipfile
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from filehost_tui.engine.archive import (
    ArchiveEntry,
    changed,
    member_names,
    open_source,
    scan_folder,
    unreadable,
    zip_date,
)
from filehost_tui.errors import ErrorKind, UploadError
from filehost_tui.units import human_size

CHUNK_SIZE = 2 * 1024 * 1024  # libcurl's upload buffer: one read callback serves one chunk
_UTF8 = 0x800
_DESCRIPTOR = 0x08
_UNIX = 3
_EXTERNAL_ATTR = (0o100000 | 0o644) << 16  # a regular file, rw-r--r--: never the local modes
_LOCAL = struct.Struct("<4s2H3HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR64 = struct.Struct("<4sLQL")
_END = struct.Struct("<4s4H2LH")


@dataclass(frozen=True)
class Member:
    """Where one file lies in the archive; every offset is absolute."""

    entry: ArchiveEntry
    name: bytes
    flags: int
    dostime: int
    dosdate: int
    offset: int  # of the local header
    data_start: int
    zip64: bool  # local Zip64 extra and a 24-byte descriptor

    @property
    def data_end(self) -> int:
        return self.data_start + self.entry.size

    @property
    def end(self) -> int:
        return self.data_end + (24 if self.zip64 else 16)


@dataclass(frozen=True)
class ZipPlan:
    """The archive's layout, computed from the scan; reading it costs nothing until `chunks`."""

    members: tuple[Member, ...]
    cd_offset: int
    cd_entries: tuple[int, ...]  # absolute offset of each member's central-directory entry
    cd_end: int
    size: int
    crcs: dict[int, int] = field(default_factory=dict, compare=False, repr=False)

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The archive's bytes [start, end), in chunks of at most CHUNK_SIZE."""
        end = self.size if end is None else min(end, self.size)
        if not 0 <= start <= end:
            raise ValueError(f"bad range {start}..{end} of {self.size}")
        self.read_crcs(start, end)
        with ThreadPoolExecutor(1, thread_name_prefix="zip-crc") as pool:
            for index, member in enumerate(self.members):
                if member.end > start and member.offset < end:
                    yield from self._member(index, member, start, end, pool)
        if end > self.cd_offset:
            yield _clip(self._directory(), self.cd_offset, start, end)

    def read_crcs(self, start: int, end: int) -> None:
        """Read the CRCs the range [start, end) needs for descriptors or directory entries but
        does not read itself. Called before a volume's request, so that a long pass never keeps
        an open connection waiting (a host or curl's stall detector would drop it)."""
        for index, member in enumerate(self.members):
            wanted = _overlaps(member.data_end, member.end, start, end) or _overlaps(
                self.cd_entries[index], self._cd_entry_end(index), start, end
            )
            reads_it = _overlaps(member.data_start, member.data_end, start, end)
            if wanted and not reads_it and index not in self.crcs:
                crc = 0
                for chunk in _file_chunks(member.entry, 0):
                    crc = zlib.crc32(chunk, crc)
                self.crcs[index] = crc

    def _cd_entry_end(self, index: int) -> int:
        last = index + 1 == len(self.cd_entries)
        return self.cd_end if last else self.cd_entries[index + 1]

    def _member(
        self, index: int, member: Member, start: int, end: int, pool: Executor
    ) -> Iterator[bytes]:
        yield _clip(_local_header(member), member.offset, start, end)
        needs_crc = _overlaps(member.data_end, member.end, start, end)
        compute = needs_crc and index not in self.crcs
        if compute or _overlaps(member.data_start, member.data_end, start, end):
            first = member.data_start if compute else max(start, member.data_start)
            crc, pos = _BackgroundCrc(pool), first
            with contextlib.closing(_file_chunks(member.entry, first - member.data_start)) as it:
                for chunk in it:
                    if compute:
                        crc.add(chunk)
                    if pos + len(chunk) > start:
                        yield _clip(chunk, pos, start, end)
                    pos += len(chunk)
                    if pos >= end:
                        return  # the descriptor lies past the range: its CRC is not needed
            if compute:
                self.crcs[index] = crc.value()
        if needs_crc:
            yield _clip(_descriptor(member, self.crcs[index]), member.data_end, start, end)

    def _directory(self) -> bytes:
        # entries outside the range are clipped away, so their CRC may be unknown (0) here
        parts = [_central_entry(m, self.crcs.get(i, 0)) for i, m in enumerate(self.members)]
        cd_size = sum(len(p) for p in parts)
        parts.append(_end_records(len(self.members), self.cd_offset, cd_size))
        return b"".join(parts)


class _BackgroundCrc:
    """CRC-32 of a member's chunks, computed on another core while they are sent (zlib releases
    the GIL): the CRC costs about as much CPU as reading the files, and the sender need not wait
    for it. At most two chunks wait for it, so memory stays bounded if it falls behind."""

    def __init__(self, pool: Executor) -> None:
        self._pool = pool
        self._crc = 0
        self._pending: deque[Future[None]] = deque()

    def add(self, chunk: bytes) -> None:
        if len(self._pending) >= 2:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._update, chunk))

    def _update(self, chunk: bytes) -> None:
        self._crc = zlib.crc32(chunk, self._crc)  # one worker: updates run in order

    def value(self) -> int:
        while self._pending:
            self._pending.popleft().result()
        return self._crc


def plan_folder(folder: Path) -> ZipPlan:
    """The plan of `folder`'s archive; UploadError(NOT_FOUND) if it holds no file to upload."""
    entries = scan_folder(folder)
    if not entries:
        raise UploadError(
            ErrorKind.NOT_FOUND,
            f"folder {folder} contains no files to upload; add files or remove it from the queue",
        )
    return plan_entries(entries)


def plan_entries(entries: list[ArchiveEntry]) -> ZipPlan:
    limit = zipfile.ZIP64_LIMIT
    members = []
    offset = 0
    for entry, name in zip(entries, member_names([e.relpath for e in entries]), strict=True):
        try:
            raw, flags = name.encode("ascii"), _DESCRIPTOR
        except UnicodeEncodeError:
            raw, flags = name.encode("utf-8"), _DESCRIPTOR | _UTF8
        date = zip_date(entry.mtime_ns)
        zip64 = entry.size > limit
        data_start = offset + _LOCAL.size + len(raw) + (20 if zip64 else 0)
        member = Member(
            entry,
            raw,
            flags,
            date[3] << 11 | date[4] << 5 | date[5] // 2,
            (date[0] - 1980) << 9 | date[1] << 5 | date[2],
            offset,
            data_start,
            zip64,
        )
        members.append(member)
        offset = member.end
    cd_entries = []
    cd_pos = offset
    for member in members:
        cd_entries.append(cd_pos)
        cd_pos += _CENTRAL.size + len(member.name) + len(_central_extra(member)[0])
    cd_size = cd_pos - offset
    size = cd_pos + len(_end_records(len(members), offset, cd_size))
    return ZipPlan(tuple(members), offset, tuple(cd_entries), cd_pos, size)


def _overlaps(lo: int, hi: int, start: int, end: int) -> bool:
    return lo < end and hi > start


def _clip(data: bytes, at: int, start: int, end: int) -> bytes:
    """The part of `data` (which begins at absolute offset `at`) inside [start, end)."""
    return data[max(0, start - at) : max(0, end - at)]


def _local_header(m: Member) -> bytes:
    extra = struct.pack("<2H2Q", 1, 16, 0, 0) if m.zip64 else b""
    sizes = 0xFFFFFFFF if m.zip64 else 0
    version = zipfile.ZIP64_VERSION if m.zip64 else 20
    head = _LOCAL.pack(
        b"PK\x03\x04",
        version,
        m.flags,
        0,
        m.dostime,
        m.dosdate,
        0,
        sizes,
        sizes,
        len(m.name),
        len(extra),
    )
    return head + m.name + extra


def _descriptor(m: Member, crc: int) -> bytes:
    size = m.entry.size
    if m.zip64:
        return struct.pack("<4sLQQ", b"PK\x07\x08", crc, size, size)
    return struct.pack("<4sLLL", b"PK\x07\x08", crc, size, size)


def _central_extra(m: Member) -> tuple[bytes, int, int]:
    """(Zip64 extra field, 32-bit size, 32-bit offset) of a directory entry."""
    limit = zipfile.ZIP64_LIMIT
    fields: list[int] = []
    size, offset = m.entry.size, m.offset
    if size > limit:
        fields += [size, size]
        size = 0xFFFFFFFF
    if offset > limit:
        fields.append(offset)
        offset = 0xFFFFFFFF
    if not fields:
        return b"", size, offset
    return struct.pack(f"<2H{len(fields)}Q", 1, 8 * len(fields), *fields), size, offset


def _central_entry(m: Member, crc: int) -> bytes:
    extra, size, offset = _central_extra(m)
    version = zipfile.ZIP64_VERSION if extra or m.zip64 else 20
    return (
        _CENTRAL.pack(
            b"PK\x01\x02",
            version,
            _UNIX,
            version,
            0,
            m.flags,
            0,
            m.dostime,
            m.dosdate,
            crc,
            size,
            size,
            len(m.name),
            len(extra),
            0,
            0,
            0,
            _EXTERNAL_ATTR,
            offset,
        )
        + m.name
        + extra
    )


def _end_records(count: int, cd_offset: int, cd_size: int) -> bytes:
    limit = zipfile.ZIP64_LIMIT
    if count <= zipfile.ZIP_FILECOUNT_LIMIT and cd_offset <= limit and cd_size <= limit:
        return _END.pack(b"PK\x05\x06", 0, 0, count, count, cd_size, cd_offset, 0)
    end64 = _END64.pack(
        b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, cd_size, cd_offset
    )  # record size excludes its first 12 bytes
    locator = _LOCATOR64.pack(b"PK\x06\x07", 0, cd_offset + cd_size, 1)
    small = _END.pack(
        b"PK\x05\x06",
        0,
        0,
        min(count, 0xFFFF),
        min(count, 0xFFFF),
        min(cd_size, 0xFFFFFFFF),
        min(cd_offset, 0xFFFFFFFF),
        0,
    )
    return end64 + locator + small


def _file_chunks(entry: ArchiveEntry, skip: int) -> Iterator[bytes]:
    """The file's bytes from `skip` on, checked against the plan before and after reading."""
    src = open_source(entry)
    with src:
        _check_unchanged(entry, src.fileno())
        if skip:
            src.seek(skip)
        left = entry.size - skip
        while left > 0:
            try:
                chunk = src.read(min(CHUNK_SIZE, left))
            except OSError as exc:
                raise unreadable(entry.relpath, exc) from None
            if not chunk:
                raise changed(entry.relpath)
            left -= len(chunk)
            yield chunk
        _check_unchanged(entry, src.fileno())


def file_range(entry: ArchiveEntry, start: int, end: int) -> Iterator[bytes]:
    """Bytes [start, end) of one file, checked against `entry` as a member's are."""
    pos = start
    with contextlib.closing(_file_chunks(entry, start)) as chunks:
        for chunk in chunks:
            if pos + len(chunk) > end:
                yield chunk[: end - pos]
                return
            yield chunk
            pos += len(chunk)


def _check_unchanged(entry: ArchiveEntry, fd: int) -> None:
    st = os.fstat(fd)
    if (st.st_size, st.st_mtime_ns) != (entry.size, entry.mtime_ns):
        raise changed(entry.relpath)


def part_path(dest: Path) -> Path:
    """The temporary name a build writes before the final rename: `<dest>.part`."""
    return dest.with_name(dest.name + ".part")


def build_archive(folder: Path, dest: Path) -> Path:
    """Write `folder`'s streamed archive to `dest` (0600) and return `dest`: the same bytes an
    upload sends, for whoever needs them as a file (a pre-built ZIP to compare with, a test)."""
    plan = plan_folder(folder)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    try:
        _write(part, plan.chunks(), plan.size)
        os.replace(part, dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _fsync_dir(dest.parent)
    return dest


def _write(part: Path, chunks: Iterator[bytes], size: int) -> None:
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        os.fchmod(fd, 0o600)  # a stale .part from a crash may carry other bits
        with open(fd, "wb") as raw:
            for chunk in chunks:
                raw.write(chunk)
            raw.flush()
            os.fsync(raw.fileno())
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            free = shutil.disk_usage(part.parent).free
            with contextlib.suppress(OSError):
                free += part.stat().st_size  # removed as the build gives up
            raise UploadError(
                ErrorKind.DISK_FULL,
                f"disk full: the archive needs {human_size(size)} in {part.parent} and "
                f"{human_size(free)} is free; free some space there (it is retried)",
            ) from None
        raise UploadError(
            ErrorKind.NOT_FOUND,
            f"could not write archive {part}: {exc.strerror or exc}; fix the cache folder",
        ) from None


def _fsync_dir(path: Path) -> None:
    """Make the rename durable; best effort (some filesystems refuse fsync on a directory)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
