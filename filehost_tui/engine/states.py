"""The upload state machine (docs/architecture.md, 'State machine') in one table.

Every status change goes through `target`.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"
    UPLOADING = "uploading"
    COMPLETED = "completed"
    FAILED = "failed"
    PAUSED = "paused"
    CANCELLED = "cancelled"


class Action(StrEnum):
    CLAIM = "claim"
    COMPLETE = "complete"
    RETRY_LATER = "retry_later"
    FAIL = "fail"
    PAUSE = "pause"
    DRAIN = "drain"  # pause a row only while it waits: what runs finishes, nothing new starts
    RESUME = "resume"
    CANCEL = "cancel"
    RETRY = "retry"
    REQUEUE = "requeue"  # lease expired after a crash, or the runner shut down mid-transfer


S = Status
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (S.PENDING, Action.CLAIM): S.UPLOADING,
    (S.UPLOADING, Action.COMPLETE): S.COMPLETED,
    (S.UPLOADING, Action.RETRY_LATER): S.PENDING,
    (S.UPLOADING, Action.FAIL): S.FAILED,
    (S.PENDING, Action.PAUSE): S.PAUSED,
    (S.UPLOADING, Action.PAUSE): S.PAUSED,
    (S.PENDING, Action.DRAIN): S.PAUSED,
    (S.PAUSED, Action.RESUME): S.PENDING,
    # Paused after every byte was sent: the attempt that still holds the row collects its link.
    (S.PAUSED, Action.COMPLETE): S.COMPLETED,
    (S.PENDING, Action.CANCEL): S.CANCELLED,
    (S.UPLOADING, Action.CANCEL): S.CANCELLED,
    (S.PAUSED, Action.CANCEL): S.CANCELLED,
    (S.FAILED, Action.CANCEL): S.CANCELLED,
    (S.FAILED, Action.RETRY): S.PENDING,
    (S.CANCELLED, Action.RETRY): S.PENDING,
    (S.UPLOADING, Action.REQUEUE): S.PENDING,
}

FINISHED = frozenset({S.COMPLETED, S.FAILED, S.CANCELLED})


class IllegalTransition(Exception):
    def __init__(self, upload_id: int, status: str, action: Action) -> None:
        super().__init__(f"upload {upload_id} is {status}; cannot {action.value} it")
        self.upload_id = upload_id
        self.status = status
        self.action = action


def target(upload_id: int, status: str, action: Action) -> Status:
    """The status `action` leads to from `status`, or IllegalTransition."""
    try:
        return TRANSITIONS[(Status(status), action)]
    except (KeyError, ValueError):
        raise IllegalTransition(upload_id, status, action) from None
