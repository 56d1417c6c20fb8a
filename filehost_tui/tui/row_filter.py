"""The `/` filter and the `h` switch as one value: which upload rows the table shows."""

from __future__ import annotations

from dataclasses import dataclass

from filehost_tui.ages import parse_age
from filehost_tui.tui.queue_view import UploadRow


@dataclass(frozen=True)
class RowFilter:
    """`text` is words that must all match: `host:ID`, `status:NAME`, `runner:NAME` (prefixes
    allowed), `since:7d` (queued in the last 7 days, counted from `now`), or plain words found in
    the item name, host or status."""

    text: str = ""
    hide_finished: bool = False
    now: float = 0.0

    def matches(self, row: UploadRow) -> bool:
        if self.hide_finished and row.finished:
            return False
        for word in self.text.lower().split():
            field, sep, value = word.partition(":")
            if sep and field == "host":
                if not row.host.lower().startswith(value):
                    return False
            elif sep and field == "status":
                if not row.status.startswith(value):
                    return False
            elif sep and field == "runner":  # holds or finished it, or may take it
                if not (
                    row.ran_by.lower().startswith(value) or row.runner.lower().startswith(value)
                ):
                    return False
            elif sep and field == "since" and parse_age(value) is not None:
                if row.created_ts < self.now - parse_age(value):
                    return False
            elif (
                word not in row.item.lower()
                and word not in row.host.lower()
                and not (row.status.startswith(word))
            ):
                return False
        return True

    @property
    def active(self) -> bool:
        return bool(self.text.strip()) or self.hide_finished

    def describe(self) -> str:
        parts = []
        if self.text.strip():
            parts.append(f"filter: {self.text.strip()}")
        if self.hide_finished:
            parts.append("finished hidden")
        return " · ".join(parts)
