"""The sentences of the confirm dialogs, kept apart so the app reads as decisions, not prose."""

from __future__ import annotations

from filehost_tui.tui import format as fmt


def cancel_active(item: str, host: str) -> str:
    return f"{item} is uploading to {host} now. Cancel it? The bytes sent so far are lost."


NOT_RESUMABLE = "no host takes the rest of a partial upload"


def quit_active(count: int, sent: int) -> str:
    noun = "upload is" if count == 1 else "uploads are"
    return (
        f"{count} {noun} running ({fmt.size(sent)} sent). Quit now? They stop and go back to the "
        f"queue, and the next start sends them again from the beginning ({NOT_RESUMABLE})."
    )


def pause_active(item: str, host: str, sent: int, total: int) -> str:
    return (
        f"{item} is uploading to {host}: {fmt.size(sent)} of {fmt.size(total)} sent. Pause it "
        f"now? Resume sends those {fmt.size(sent)} again from the start ({NOT_RESUMABLE})."
    )


def pause_all_active(count: int, sent: int) -> str:
    noun = "upload is" if count == 1 else "uploads are"
    return (
        f"{count} {noun} sending ({fmt.size(sent)} sent so far). Stopping now throws that away: "
        f"resume sends it again from the start ({NOT_RESUMABLE}).\n"
        "Finish running: what is sending finishes, nothing new starts; "
        "once it is done, P resumes the rest."
    )
