"""The hosts panel: one line per host in use — transfer progress, speed, counts, and trouble.

The panel never scrolls. Hosts in trouble come first, then hosts that transfer, then hosts with work
waiting, then the rest; when more hosts are in use than the screen has room for, the last line says
how many more there are (and how many of them are in trouble) and `H`, or a click on it, opens every
host in the hosts screen (docs/architecture.md, 'The hosts panel').
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, ProgressBar, Static

from filehost_tui.engine.eta import eta_seconds
from filehost_tui.printable import cut
from filehost_tui.tui import format as fmt
from filehost_tui.tui.queue_view import HostSummary

NAME_WIDTH = 10
HEADER = (
    f"{'host':<{NAME_WIDTH}} {'active transfers':<18} {'speed':>8}{'ETA':>6}"
    f"{'act':>4} {'que':>4} {'done':>4} {'fail':>4}"
)
LAYOUT = ("name", "bar", "speed", "eta", "counts", "marker")
"""A host line's fields, left to right, in HEADER's order. Each is a Label of class `host-<field>`
(sized in app.tcss) showing `line_texts()[field]`; "bar" is the progress bar, or the word idle."""
IDLE = "idle"


def counts_text(s: HostSummary) -> str:
    return f"{s.active:>4} {s.queued:>4} {s.done:>4} {s.failed:>4}"


def marker_text(s: HostSummary, now: float) -> str:
    """Why a host is not simply working, in words (colour alone is lost under NO_COLOR)."""
    if s.auth_failing:
        return "✗ auth failing"
    if s.disabled:
        return "⊘ disabled"
    if s.backoff_until is not None and s.backoff_until > now:
        return f"⟳ backoff {fmt.countdown(s.backoff_until - now)}"
    if s.is_paused:
        return "⏸ paused"
    return ""


def line_texts(s: HostSummary, bytes_per_s: float, now: float) -> dict[str, str]:
    """The text of every field of LAYOUT but the bar."""
    name = cut(s.host, NAME_WIDTH)
    return {
        "name": name,
        "speed": fmt.speed(bytes_per_s),
        "eta": fmt.eta(eta_seconds(s.bytes_left, bytes_per_s) if s.bytes_left else None),
        "counts": counts_text(s),
        "marker": marker_text(s, now),
    }


def in_trouble(s: HostSummary, now: float) -> bool:
    """Trouble the user must see without looking for it: the host cannot log in, waits out a
    backoff, or is disabled while uploads wait for it."""
    backoff = s.backoff_until is not None and s.backoff_until > now
    return s.auth_failing or backoff or (s.disabled and s.queued > 0)


def in_order(summaries: Iterable[HostSummary], now: float) -> list[HostSummary]:
    """Trouble first, then transferring, then work waiting or failed, then at rest; by name."""

    def rank(s: HostSummary) -> int:
        if in_trouble(s, now):
            return 0
        if s.active:
            return 1
        return 2 if s.queued or s.paused or s.failed else 3

    return sorted(summaries, key=lambda s: (rank(s), s.host))


def lines_for_height(height: int) -> int:
    """Host lines the main screen gives the panel: five at 24 rows, a quarter of a taller screen."""
    return max(2, min(12, height // 4 - 1))


def more_text(hidden: list[HostSummary], now: float) -> str:
    trouble = sum(in_trouble(s, now) for s in hidden)
    worry = f", {trouble} in trouble" if trouble else ""
    return f"+{len(hidden)} more host(s){worry}: press H to see every host"


class HostLine(Horizontal):
    def __init__(self, host: str) -> None:
        super().__init__(id=f"host-{host}", classes="host-line")
        self.host = host
        self._shown: dict[str, object] = {}
        self._composed = False
        self._waiting: tuple[HostSummary, float, float] | None = None

    def compose(self) -> ComposeResult:
        for field in LAYOUT:
            if field == "bar":
                yield ProgressBar(total=1, show_eta=False, classes="host-bar")
                yield Label(IDLE, classes="host-idle")
            else:
                yield Label("", classes=f"host-{field}")

    def on_mount(self) -> None:
        self._composed = True
        if self._waiting is not None:
            self.show(*self._waiting)

    def show(self, s: HostSummary, bytes_per_s: float, now: float) -> None:
        """Only what changed is updated: a label's update re-lays the screen out even when its
        text is the same, which kept an idle app busy every second."""
        if not self._composed:
            self._waiting = (s, bytes_per_s, now)  # shown once composed (see on_mount)
            return
        busy = s.active > 0
        if self._shown.get("busy") != busy:
            self._shown["busy"] = busy
            self.query_one(ProgressBar).display = busy
            self.query_one(".host-idle").display = not busy
        if busy:
            self.query_one(ProgressBar).update(
                total=max(1, s.active_total),
                progress=min(s.active_uploaded, max(1, s.active_total)),
            )
        for field, text in line_texts(s, bytes_per_s, now).items():
            if self._shown.get(field) != text:
                self._shown[field] = text
                self.query_one(f".host-{field}", Label).update(text)
        self.set_class(bool(self._shown["marker"]), "-trouble")


class MoreLine(Static):
    """ "+N more host(s)": a click opens every host, as `H` does."""

    def on_click(self) -> None:
        self.post_message(HostsPanel.MoreWanted())


class HostsPanel(Vertical):
    """Lines appear when a host first has uploads and are updated in place after that; they are
    moved only when the order changes. `limited`: fit the main screen (see lines_for_height);
    otherwise every host is shown (the hosts screen scrolls them)."""

    class MoreWanted(Message):
        """The "+N more" line was clicked: every host is wanted."""

    def __init__(self, *, limited: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.limited = limited
        self._last: tuple[Mapping[str, HostSummary], Mapping[str, float], float] | None = None
        self._order: list[str] = []
        self._more = ""

    def compose(self) -> ComposeResult:
        yield Static(HEADER, classes="hosts-header")
        yield Static("no uploads yet: press a to add files", classes="hosts-empty")
        more = MoreLine("", classes="hosts-more")
        more.display = False
        yield more

    def show(
        self, summaries: Mapping[str, HostSummary], speeds: Mapping[str, float], now: float
    ) -> None:
        self._last = (summaries, speeds, now)
        self.query_one(".hosts-empty").display = not summaries
        hosts = in_order(summaries.values(), now)
        room = lines_for_height(self.app.size.height) if self.limited else len(hosts)
        shown = hosts if len(hosts) <= room else hosts[: room - 1]
        more = self.query_one(MoreLine)
        lines = {line.host: line for line in self.query(HostLine)}
        for s in shown:
            if s.host not in lines:
                lines[s.host] = HostLine(s.host)
                self.mount(lines[s.host], before=more)
        order = [s.host for s in shown]
        if order != self._order:
            for host in order:
                self.move_child(lines[host], before=more)
            self._order = order
            for host, line in lines.items():
                line.display = host in order
        for s in shown:
            lines[s.host].show(s, speeds.get(s.host, 0.0), now)
        text = more_text(hosts[len(shown) :], now) if len(shown) < len(hosts) else ""
        if text != self._more:
            self._more = text
            more.display = bool(text)
            more.update(text)

    def refit(self) -> None:
        """The screen changed size: show the last read again in the room there is now."""
        if self._last is not None:
            self.show(*self._last)
