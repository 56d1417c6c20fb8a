"""User actions on uploads, shared by the CLI and the TUI, in-process or attached to a runner.

Each action is a row change (the database is the control plane) followed by a doorbell ring, so the
worker owning the transfer, in this process or in a runner elsewhere, aborts or resumes at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal

from filehost_tui.engine.archive_cache import sweep_archives
from filehost_tui.engine.doorbell import ring
from filehost_tui.engine.pg_runner import notify
from filehost_tui.engine.queue_reads import QueueReads
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.engine.runners import home_name
from filehost_tui.engine.states import IllegalTransition, Status
from filehost_tui.paths import AppPaths

UserAction = Literal["pause", "drain", "resume", "cancel", "retry"]
Outcome = Status | IllegalTransition


class Control:
    def __init__(self, queue: QueueStore, paths: AppPaths, *, keep_archives: bool) -> None:
        self.queue = queue
        self.paths = paths
        self.keep_archives = keep_archives

    def add(
        self,
        paths: Sequence[str | Path],
        hosts: Sequence[str],
        name: str | None = None,
        *,
        runner: str | None = None,
    ) -> list[int]:
        """Queue paths for the runner named `runner`: by default this home's (runners.home_name),
        since the paths are local to its machine; ANY_RUNNER for paths every runner can read (docs/architecture.md,
        'Runners')."""
        ids = self.queue.add(
            paths, hosts, name, runner=home_name(self.paths) if runner is None else runner
        )
        self._ring()
        return ids

    def assign(self, upload_ids: Sequence[int], runner: str) -> int:
        """Hand uploads to another runner (ANY_RUNNER: any), which may start them at once."""
        changed = self.queue.assign(upload_ids, runner)
        self._ring()
        return changed

    def apply(self, action: UserAction, upload_ids: Iterable[int]) -> Iterator[tuple[int, Outcome]]:
        """Yield each upload's new status, or the refusal, as it happens, so a long selection
        reports as it goes; one ring and one archive sweep follow the last change."""
        change: Callable[[int], Status] = getattr(self.queue, action)
        changed = False
        try:
            for upload_id in upload_ids:
                try:
                    status = change(upload_id)
                except IllegalTransition as exc:
                    yield upload_id, exc
                    continue
                changed = True
                yield upload_id, status
        finally:
            self._ring()
            if action == "cancel" and changed:
                # a cancelled item may be needed by no host any more: its archive goes now
                sweep_archives(self.paths.archives_dir, keep_archives=self.keep_archives)

    def _ring(self) -> None:
        """Wake the runner on this machine, and on a shared database every runner."""
        ring(self.paths)
        notify(self.queue.db)

    def pause(self, upload_id: int) -> Status:
        return self._one("pause", upload_id)

    def resume(self, upload_id: int) -> Status:
        return self._one("resume", upload_id)

    def cancel(self, upload_id: int) -> Status:
        return self._one("cancel", upload_id)

    def retry(self, upload_id: int) -> Status:
        return self._one("retry", upload_id)

    def toggle_pause(self, upload_id: int) -> Status:
        """Pause a pending or uploading upload, resume a paused one."""
        if self.queue.get(upload_id).status == Status.PAUSED:
            return self.resume(upload_id)
        return self.pause(upload_id)

    def pause_all(self) -> int:
        return self._all((Status.PENDING, Status.UPLOADING), "pause")

    def drain_all(self) -> int:
        """Finish what runs, start nothing new: every waiting upload is paused, running ones go on
        (docs/architecture.md, 'Pause and drain'); resume_all undoes it."""
        return self._all((Status.PENDING,), "drain")

    def resume_all(self) -> int:
        return self._all((Status.PAUSED,), "resume")

    def _all(self, statuses: tuple[Status, ...], action: UserAction) -> int:
        ids = QueueReads(self.queue.db).ids_with_status(statuses)
        # a refusal means its worker finished it meanwhile
        outcomes = self.apply(action, ids)
        return sum(1 for _, outcome in outcomes if not isinstance(outcome, IllegalTransition))

    def _one(self, action: UserAction, upload_id: int) -> Status:
        [(_, outcome)] = self.apply(action, [upload_id])
        if isinstance(outcome, IllegalTransition):
            raise outcome
        return outcome
