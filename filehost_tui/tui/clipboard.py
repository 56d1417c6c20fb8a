"""`y`: a link goes to the terminal's clipboard by OSC 52, which many terminals (and tmux without
`set-clipboard on`) drop without a word. So the toast says the link was sent, never "copied", and
shows the link long enough to copy it by hand."""

from __future__ import annotations

from textual.screen import Screen

SHOW_LINK_S = 10.0


def send_link(screen: Screen, url: str) -> None:
    screen.app.copy_to_clipboard(url)
    screen.notify(
        f"sent to the terminal's clipboard: {url}",
        markup=False,
        timeout=SHOW_LINK_S,
    )
