"""How many times an upload was tried over its life, for the details screen.

The upload row counts only the current round: a retry by hand sets `retry_count` back to 0, so the
retry budget starts again (docs/architecture.md, 'Transitions'). The round before lives in the
upload's metrics row, whose `retry_count` adds up every round that ended failed or completed
(docs/architecture.md, 'Metrics'). Attempts that a pause, a cancel or a shutdown cut short are
not counted: they did not reach the host's verdict. A round cancelled and then retried by hand
leaves no metrics row, so its attempts are not known.
"""

from __future__ import annotations

from dataclasses import dataclass

from filehost_tui.engine.models import FileHostUpload, UploadMetric
from filehost_tui.engine.states import Status


@dataclass(frozen=True)
class Attempts:
    earlier: int
    """Attempts before the last retry by hand."""
    since: int
    """Attempts since the upload was queued or retried by hand, the running one included."""
    automatic: int
    """Automatic retries among `since` (the row's retry_count)."""

    @property
    def total(self) -> int:
        return self.earlier + self.since


def attempts_of(row: FileHostUpload) -> Attempts:
    """Reads the upload's metrics row; `row` is the upload as just read."""
    metric = UploadMetric.get_or_none(UploadMetric.upload_id == row.id)
    retries = row.retry_count
    # the metrics row was written after the last attempt started: it holds this round's outcome
    # (or, right after a retry by hand, no attempt has started since)
    current = metric is not None and row.started_ts is not None and metric.end_ts >= row.started_ts
    ended = row.status in (Status.COMPLETED, Status.FAILED) or (
        row.status == Status.CANCELLED and current and row.error_kind is not None
    )
    if ended and current:
        return Attempts(max(0, metric.retry_count - retries), retries + 1, retries)
    earlier = metric.retry_count + 1 if metric is not None else 0
    running = ended or row.status == Status.UPLOADING
    return Attempts(earlier, retries + (1 if running else 0), retries)
