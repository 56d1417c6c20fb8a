"""The sentences of the confirm dialogs, kept apart so the app reads as decisions, not prose."""

from __future__ import annotations


def cancel_active(item: str, host: str) -> str:
    return f"{item} is uploading to {host} now. Cancel it? The bytes sent so far are lost."


def quit_active(count: int) -> str:
    noun = "upload is" if count == 1 else "uploads are"
    return (
        f"{count} {noun} running. Quit now? They stop and go back to the queue, "
        "and resume the next time filehost-tui starts."
    )
