"""The uploads table: one row per upload, keyed by upload id, updated cell by cell.

Rows are never rebuilt on updates: a changed upload rewrites only the cells that differ
(update_cell, inside app.batch_update), so the cursor and scroll position stay where the user left
them. New uploads are appended (ids grow, so queue order holds). Only a filter change, or older
history arriving, re-lays the rows, and then the cursor goes back to the upload it was on.

The table holds a window, not the history: unfinished and failed uploads, the latest finished ones,
older pages the user asked for (up or page-up on the top row), and what the `/` filter found.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from filehost_tui.disabled_hosts import waiting_reason
from filehost_tui.engine.eta import upload_eta
from filehost_tui.printable import printable
from filehost_tui.tui import format as fmt
from filehost_tui.tui.bindings import table_bindings
from filehost_tui.tui.fit import Tail, head
from filehost_tui.tui.messages import Live
from filehost_tui.tui.queue_view import STATUS_WIDTH, UploadRow, item_label, shown_phase
from filehost_tui.tui.row_filter import RowFilter

COLUMNS = (
    ("item", "item"),
    ("host", "host"),
    ("status", "status"),
    ("pct", "%"),
    ("size", "size"),
    ("speed", "speed"),
    ("eta", "ETA"),
    ("retries", "R"),
    ("tail", "link / error"),
)
RUNNER_COLUMN = ("runner", "runner")  # after host, on a queue shared by several runners
FIXED = {
    "host": 10,
    "runner": 8,
    "status": STATUS_WIDTH,
    "pct": 4,
    "size": 6,
    "speed": 8,
    "eta": 5,
    "retries": 1,
}
WIDE_ONLY = ("size", "retries", "runner")
"""Left out below WIDE_FROM columns, so the item name keeps room at 80 (the details show all three;
a pending row waiting for a runner that is not running says so in its link/error cell)."""
WIDE_FROM = 100
TAIL_WIDTH = (12, 40)
"""The link/error column: at least `…/f/abc123`, at most what a long link needs; the item name
takes every other free cell."""
STATUS_STYLE = {
    "uploading": "bold",
    "completed": "green",
    "failed": "bold red",
    "paused": "yellow",
    "cancelled": "dim",
}

Cells = tuple[str | Text | Tail, ...]

ADD_AT_ONCE = 500
"""New rows added per turn of the event loop: a first read of 10,000 uploads added in one go kept
every key waiting for about 1.4 s; in slices, keys are answered between them."""


def render_cells(
    row: UploadRow, live: Live | None, now: float, disabled: Collection[str] = ()
) -> Cells:
    """The eight cells of a row; `live` (engine memory) beats the database's byte count. A
    pending upload of a `disabled` host reads "waiting" and, as its tail, why."""
    uploading = row.status == "uploading"
    status = row.status
    waiting = waiting_reason(row.status, row.host, disabled)
    if uploading:
        status = shown_phase(row, live.phase if live is not None else status)
    elif waiting:
        status = "waiting"
    elif row.status == "pending" and row.next_attempt_ts > now:
        status = f"retry {fmt.countdown(row.next_attempt_ts - now)}"
    done, total = (live.uploaded, live.total) if uploading and live else (row.uploaded, row.total)
    if row.status == "completed":
        pct = "100%"
    elif uploading or row.status == "paused":  # paused: what is kept, 0% unless all was sent
        pct = fmt.percent(done, total or row.total)
    else:
        pct = ""
    if row.status == "completed" and row.url:
        tail: Text | Tail = Tail(printable(fmt.short_link(row.url)))
    elif waiting:
        tail = head(waiting)
    elif row.error_kind and row.status in ("failed", "pending", "paused"):
        tail = head(printable(fmt.short_error(row.error_kind, row.error_message)))
    else:
        tail = head("")
    moving = uploading and live is not None
    eta = upload_eta(live.uploaded, live.total, live.bytes_per_s) if moving else None
    return (
        head(printable(item_label(row))),  # Text, not str: a DataTable reads a str as markup
        row.host,
        Text(status, style=STATUS_STYLE.get(row.status, "")),
        pct,
        fmt.size(row.total),
        fmt.speed(live.bytes_per_s) if moving else "",
        fmt.eta(eta),
        str(row.retries) if row.retries else "",
        tail,
    )


def runner_cell(row: UploadRow) -> str:
    """Who holds or finished it; for one waiting, the runner that may take it (`any`: every one)."""
    if row.ran_by and row.status != "pending":
        return printable(row.ran_by)
    return printable(row.runner) if row.runner else "any"


class UploadsTable(DataTable):
    BINDINGS = table_bindings()

    class OlderWanted(Message):
        """The cursor tried to go above the top row: older history is wanted."""

    def __init__(
        self,
        clock: Callable[[], float],
        disabled_hosts: Collection[str] = (),
        *,
        runners: bool = False,
        **kwargs,
    ) -> None:
        """`runners`: show which runner holds or may take each upload (a shared queue)."""
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.clock = clock
        self.disabled_hosts = disabled_hosts
        """Hosts config.toml turns off: their pending rows say they wait."""
        self.all_columns = (*COLUMNS[:2], RUNNER_COLUMN, *COLUMNS[2:]) if runners else COLUMNS
        """Every column a row has a cell for; the width decides which are laid out."""
        self.runner_states: dict[str, str] = {}
        self.known: dict[int, UploadRow] = {}
        self.live: dict[int, Live] = {}
        self.row_filter = RowFilter()
        self._cells: dict[int, Cells] = {}
        self._backlog: list[int] = []  # ids that pass the filter, not yet added, ascending
        self._draining = False
        self._found: set[int] = set()  # history rows held only because the filter found them
        self._shown: tuple[str, ...] = ()  # the column keys laid out now (see _fit_columns)

    def on_mount(self) -> None:
        self._fit_columns(self.size.width)

    def on_resize(self) -> None:
        self._fit_columns(self.size.width)

    def _fit_columns(self, width: int) -> None:
        """Columns for this width (docs/architecture.md, 'Fitting the screen'): below WIDE_FROM
        the WIDE_ONLY ones go; the link/error column gets what a link's end needs, the item name
        every other free cell."""
        if not width and self.columns:
            return
        shown = tuple(k for k, _ in self.all_columns if width >= WIDE_FROM or k not in WIDE_ONLY)
        if shown != self._shown:
            self._relayout(columns=shown)
        padding = 2 * self.cell_padding * len(shown)
        fixed = sum(FIXED.get(k, 0) for k in shown)
        spare = max(2 * TAIL_WIDTH[0], width - 2 - padding - fixed)
        tail = min(TAIL_WIDTH[1], max(TAIL_WIDTH[0], spare * 2 // 5))
        for key, value in (("item", spare - tail), ("tail", tail)):
            self.columns[key].width = value  # type: ignore[index]
        # DataTable has no public "column width changed" call: these two are what its own
        # add_column/resize do, so the next paint uses the new widths.
        self._require_update_dimensions = True
        self._update_count += 1
        self.refresh()

    def _shown_cells(self, cells: Cells) -> list[str | Text | Tail]:
        shown = self._shown
        return [c for (key, _), c in zip(self.all_columns, cells, strict=True) if key in shown]

    # ---- reading the table ------------------------------------------------------------------

    def selected_id(self) -> int | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:
            return None
        return int(key.value) if key.value is not None else None

    def selected_row(self) -> UploadRow | None:
        upload_id = self.selected_id()
        return self.known.get(upload_id) if upload_id is not None else None

    # ---- changing the table -----------------------------------------------------------------

    @property
    def adding_rows(self) -> bool:
        """Rows are still waiting to be added (see ADD_AT_ONCE)."""
        return bool(self._backlog)

    def apply_rows(self, rows: Iterable[UploadRow]) -> None:
        """Update rows in place and append new ones that pass the filter; never remove. Beyond the
        first ADD_AT_ONCE, new rows are appended on the following turns of the event loop."""
        now = self.clock()
        waiting = set(self._backlog)
        new: list[int] = []
        for row in rows:
            self.known[row.id] = row
            if row.id in self._cells:
                self._update(row.id, now)
            elif row.id not in waiting and self.row_filter.matches(row):
                new.append(row.id)
        if not new:
            return
        self._backlog = sorted(self._backlog + new)
        self._add_some(ADD_AT_ONCE)
        if self._backlog and not self._draining:
            self._schedule_drain()

    def _schedule_drain(self) -> None:
        # A timer of the table's own: call_after_refresh would run on whichever screen is on top,
        # and a dialog closed before it ran would drop it, and the rest of the rows with it.
        self._draining = True
        self.set_timer(1 / 60, self._drain)

    def _drain(self) -> None:
        self._draining = False
        self._add_some(ADD_AT_ONCE)
        if self._backlog:
            self._schedule_drain()

    def _add_some(self, limit: int | None) -> None:
        now = self.clock()
        take = self._backlog if limit is None else self._backlog[:limit]
        self._backlog = self._backlog[len(take) :]
        for upload_id in take:
            row = self.known[upload_id]
            if upload_id in self._cells or not self.row_filter.matches(row):
                continue  # the filter changed while it waited
            cells = self._render(row, now)
            self._cells[upload_id] = cells
            self.add_row(*self._shown_cells(cells), key=str(upload_id))

    def apply_live(self, live: dict[int, Live]) -> None:
        """Replace the engine's view of running transfers; rows that stopped lose their speed."""
        changed = set(live) | set(self.live)
        self.live = dict(live)
        now = self.clock()
        for upload_id in changed:
            self._update(upload_id, now)

    def apply_progress(self, upload_id: int, live: Live) -> None:
        self.live[upload_id] = live
        self._update(upload_id, self.clock())

    def tick(self) -> None:
        """Re-render rows whose text depends on the clock (retry countdowns)."""
        now = self.clock()
        for upload_id, row in self.known.items():
            if row.status == "pending" and row.next_attempt_ts and upload_id in self._cells:
                self._update(upload_id, now)

    def _update(self, upload_id: int, now: float) -> None:
        old = self._cells.get(upload_id)
        row = self.known.get(upload_id)
        if old is None or row is None:
            return
        cells = self._render(row, now)
        if cells == old:
            return
        self._cells[upload_id] = cells
        key = str(upload_id)
        for (column, _), before, after in zip(self.all_columns, old, cells, strict=True):
            if before != after and column in self._shown:
                self.update_cell(key, column, after)

    def _render(self, row: UploadRow, now: float) -> Cells:
        cells = render_cells(row, self.live.get(row.id), now, self.disabled_hosts)
        if len(self.all_columns) == len(COLUMNS):
            return cells
        return (*cells[:2], runner_cell(row), *cells[2:-1], self._waiting(row) or cells[-1])

    def _waiting(self, row: UploadRow) -> Tail | None:
        """A pending upload that only a runner which is not running may take waits for it."""
        if (
            row.status == "pending"
            and row.runner
            and self.runner_states.get(row.runner) != "running"
        ):
            # keeps its end when cut: the runner's name is the part worth seeing
            return Tail(f"waiting for runner {printable(row.runner)}", style="yellow")
        return None

    def set_runner_states(self, states: dict[str, str]) -> None:
        """Runners' states changed: pending rows may now wait for a runner, or no longer."""
        if states == self.runner_states:
            return
        self.runner_states = dict(states)
        now = self.clock()
        for upload_id, row in self.known.items():
            if row.status == "pending":
                self._update(upload_id, now)

    def action_cursor_up(self) -> None:
        if self.cursor_row == 0:
            self.post_message(self.OlderWanted())
        super().action_cursor_up()

    def action_page_up(self) -> None:
        if self.cursor_row == 0:
            self.post_message(self.OlderWanted())
        super().action_page_up()

    def oldest_history_id(self) -> int | None:
        """Where the next older page starts: below the oldest finished upload held."""
        return min((i for i, r in self.known.items() if r.finished), default=None)

    def add_history(self, rows: Iterable[UploadRow], *, found: bool) -> None:
        """Hold older rows too; they sort above what is shown, so the rows are re-laid."""
        new = [r for r in rows if r.id not in self.known]
        for row in new:
            self.known[row.id] = row
            if found:
                self._found.add(row.id)
        if any(self.row_filter.matches(r) for r in new):
            self._relayout()

    def set_filter(self, row_filter: RowFilter) -> None:
        """Re-lay the rows for a new filter; the cursor stays on its upload if still shown. Rows
        an earlier filter found in history go, unless the new filter text matches them too."""
        if row_filter == self.row_filter:
            return
        self.row_filter = row_filter
        searching = bool(row_filter.text.strip())
        for upload_id in [
            i for i in self._found if not (searching and row_filter.matches(self.known[i]))
        ]:
            self._found.discard(upload_id)
            self.known.pop(upload_id, None)
        self._relayout()

    def _relayout(self, columns: tuple[str, ...] | None = None) -> None:
        """Add the rows again (and lay out `columns` first, if given); the cursor stays on its
        upload."""
        keep = self.selected_id()
        self.clear(columns=columns is not None)
        if columns is not None:
            self._shown = columns
            for key, label in self.all_columns:
                if key in columns:
                    self.add_column(label, key=key, width=FIXED.get(key, TAIL_WIDTH[0]))
        self._cells.clear()
        self._backlog = []
        self.apply_rows(list(self.known.values()))
        self._add_some(None)  # at once: the cursor must find its upload
        if keep is not None:
            self.move_to(keep)

    def move_to(self, upload_id: int) -> bool:
        try:
            index = self.get_row_index(str(upload_id))
        except RowDoesNotExist:
            return False
        self.move_cursor(row=index, animate=False)
        return True

    @property
    def shown_ids(self) -> list[int]:
        return [int(r.key.value) for r in self.ordered_rows if r.key.value is not None]
