"""User actions on uploads, shared by the CLI and the TUI, in-process or attached to a runner.

Each action is a row change (the database is the control plane) followed by a doorbell ring, so the
worker owning the transfer, in this process or in a runner elsewhere, aborts or resumes at once.
"""

from __future__ import annotations

from filehost_tui.engine.archive_cache import sweep_archives
from filehost_tui.engine.doorbell import ring
from filehost_tui.engine.models import FileHostUpload
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.engine.states import IllegalTransition, Status
from filehost_tui.paths import AppPaths


class Control:
    def __init__(self, queue: QueueStore, paths: AppPaths, *, keep_archives: bool) -> None:
        self.queue = queue
        self.paths = paths
        self.keep_archives = keep_archives

    def pause(self, upload_id: int) -> Status:
        return self._rung(self.queue.pause(upload_id))

    def resume(self, upload_id: int) -> Status:
        return self._rung(self.queue.resume(upload_id))

    def cancel(self, upload_id: int) -> Status:
        status = self._rung(self.queue.cancel(upload_id))
        # the item may be needed by no host any more: its archive goes now
        sweep_archives(self.paths.archives_dir, keep_archives=self.keep_archives)
        return status

    def retry(self, upload_id: int) -> Status:
        return self._rung(self.queue.retry(upload_id))

    def toggle_pause(self, upload_id: int) -> Status:
        """Pause a pending or uploading upload, resume a paused one."""
        if self.queue.get(upload_id).status == Status.PAUSED:
            return self.resume(upload_id)
        return self.pause(upload_id)

    def pause_all(self) -> int:
        return self._all((Status.PENDING, Status.UPLOADING), self.queue.pause)

    def resume_all(self) -> int:
        return self._all((Status.PAUSED,), self.queue.resume)

    def _all(self, statuses: tuple[Status, ...], action) -> int:
        ids = [
            r.id
            for r in FileHostUpload.select(FileHostUpload.id).where(
                FileHostUpload.status.in_(list(statuses))
            )
        ]
        changed = 0
        for upload_id in ids:
            try:
                action(upload_id)
                changed += 1
            except IllegalTransition:
                continue  # its worker finished it meanwhile
        ring(self.paths)
        return changed

    def _rung(self, status: Status) -> Status:
        ring(self.paths)
        return status
