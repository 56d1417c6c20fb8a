"""Outcomes of finished transfers that the database could not take yet (a full disk, a lock held
past every wait): see docs/architecture.md, 'When the disk is full'.

A finished transfer's link cannot be asked for again: losing it means sending the whole file a
second time. So an outcome that cannot be written is kept in memory and retried by the ticker; a
completion also goes to a journal file that was given its full size when the engine started, so
writing into it needs no free space, and the next start replays it before taking back leases.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger("filehost_tui.engine")

JOURNAL_BYTES = 64 * 1024


class Outcome:
    """An upload's final writes, in order. Each step runs once: a retry resumes at the first step
    that has not succeeded yet; a step returning False ends the outcome (the user moved the row)."""

    def __init__(self, upload_id: int, lease: str, steps: list[Callable[[], bool | None]]) -> None:
        self.upload_id = upload_id
        self.lease = lease
        self._steps = list(steps)
        self.completion: Completion | None = None

    def run(self) -> None:
        """Raises what the database raised, keeping the steps still to do."""
        while self._steps:
            if self._steps[0]() is False:
                self._steps.clear()
                return
            self._steps.pop(0)

    @property
    def done(self) -> bool:
        return not self._steps


@dataclass(frozen=True)
class Completion:
    """What the journal keeps of a completed transfer: enough to finish its row later."""

    upload_id: int
    lease: str
    url: str
    file_id: str | None
    seconds: float
    nbytes: int


@dataclass
class Trouble:
    since: float
    message: str
    outcomes: int = 0


class UnsavedOutcomes:
    """Thread-safe holder of outcomes still to write, and of the journal behind completions."""

    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self._lock = threading.Lock()
        self._held: list[Outcome] = []
        self.trouble: Trouble | None = None

    # ---- the journal ------------------------------------------------------------------------

    def prepare_journal(self) -> list[Completion]:
        """Read what an earlier run could not record, and make sure the file has its full size."""
        left = self._read_journal()
        fd = os.open(self.journal, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < JOURNAL_BYTES:
                os.posix_fallocate(fd, 0, JOURNAL_BYTES)
        finally:
            os.close(fd)
        return left

    def _read_journal(self) -> list[Completion]:
        try:
            text = self.journal.read_bytes().rstrip(b"\0 \n").decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return []
        try:
            return [Completion(**entry) for entry in json.loads(text or "[]")]
        except (ValueError, TypeError):
            log.error("%s is unreadable; links it held are in the log file", self.journal)
            return []

    def write_journal(self) -> None:
        with self._lock:
            completions = [o.completion for o in self._held if o.completion is not None]
        data = json.dumps([asdict(c) for c in completions]).encode()
        if len(data) > JOURNAL_BYTES:
            log.error("too many unrecorded links for %s; the rest are in the log", self.journal)
            data = b"[]"
        try:
            fd = os.open(self.journal, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.pwrite(fd, data.ljust(JOURNAL_BYTES, b"\0"), 0)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            log.error("cannot write %s (%s); the links are in the log", self.journal, exc)

    # ---- outcomes ---------------------------------------------------------------------------

    def keep(self, outcome: Outcome, reason: BaseException) -> None:
        with self._lock:
            self._held.append(outcome)
            self._note_trouble(reason)
        if outcome.completion is not None:
            self.write_journal()

    def retry(self) -> list[Outcome]:
        """Write what can be written now, oldest first; stop at the first that still fails."""
        with self._lock:
            held = list(self._held)
        saved: list[Outcome] = []
        for outcome in held:
            try:
                outcome.run()
            except Exception as exc:  # noqa: BLE001 - the database still refuses: try later
                with self._lock:
                    self._note_trouble(exc)
                break
            saved.append(outcome)
        if saved:
            with self._lock:
                self._held = [o for o in self._held if o not in saved]
                if not self._held:
                    self.trouble = None
            if any(o.completion is not None for o in saved):
                self.write_journal()
        return saved

    def leases(self) -> set[str]:
        with self._lock:
            return {o.lease for o in self._held}

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)

    def note_trouble(self, reason: BaseException) -> None:
        """A write other than an outcome failed for the same cause (a claim, a progress write)."""
        with self._lock:
            self._note_trouble(reason)

    def clear_trouble(self) -> None:
        with self._lock:
            if not self._held:
                self.trouble = None

    def _note_trouble(self, reason: BaseException) -> None:
        message = str(reason) or type(reason).__name__
        if self.trouble is None:
            self.trouble = Trouble(time.monotonic(), message)
        self.trouble.message = message
        self.trouble.outcomes = len(self._held)
