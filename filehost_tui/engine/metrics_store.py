"""MetricsStore: one row per finished upload, sampled bandwidth, and the aggregates built from them.

Rows are upserted on upload_id, so an upload that failed, was retried by the user and then succeeded
counts as one success. A period holds the uploads that finished in it. Total bandwidth is the sum of the per-host samples of one tick (same ts), so
no derived total is stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import peewee

from filehost_tui.engine.models import BandwidthSample, FileHostUpload, Meta, UploadMetric

PERIODS = ("session", "24h", "7d", "30d", "all")
_PERIOD_SECONDS = {"24h": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0}
SAMPLE_RETENTION_S = 31 * 86400.0
SESSION_KEY = "session_started_ts"


@dataclass(frozen=True)
class HostStats:
    files: int
    failed: int
    bytes: int
    avg_bytes_per_s: float
    peak_bytes_per_s: float

    @property
    def success_rate(self) -> float | None:
        done = self.files + self.failed
        return self.files / done if done else None

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "files": self.files,
            "failed": self.failed,
            "bytes": self.bytes,
            "avg_bytes_per_s": round(self.avg_bytes_per_s, 1),
            "peak_bytes_per_s": round(self.peak_bytes_per_s, 1),
            "success_rate": None if self.success_rate is None else round(self.success_rate, 4),
        }


class MetricsStore:
    def __init__(self, db: peewee.Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def start_session(self) -> float:
        """Mark now as the start of the `session` period (a runner or the TUI starting work)."""
        ts = self.clock()
        Meta.insert(key=SESSION_KEY, value=repr(ts)).on_conflict(
            conflict_target=[Meta.key], update={Meta.value: repr(ts)}
        ).execute()
        return ts

    def record_upload_success(
        self,
        host: str,
        item: int,
        upload_id: int,
        duration_s: float,
        bytes: int,
        bytes_per_s: float,
        retry_count: int = 0,
    ) -> None:
        end = self.clock()
        self._upsert(
            upload_id=upload_id,
            host_name=host,
            item_id=item,
            status="success",
            start_ts=end - duration_s,
            end_ts=end,
            duration_seconds=duration_s,
            bytes_uploaded=bytes,
            total_bytes=bytes,
            speed_kbps=bytes_per_s / 1024,
            error_message=None,
            retry_count=retry_count,
            is_retryable=False,
            recorded_ts=end,
        )

    def record_upload_failure(
        self, host: str, item: int, upload_id: int, message: str, retry_count: int, retryable: bool
    ) -> None:
        """The upload row, when there is one, says when the last attempt started and how far it
        got."""
        end = self.clock()
        row = FileHostUpload.get_or_none(FileHostUpload.id == upload_id)
        start = row.started_ts if row is not None and row.started_ts else end
        self._upsert(
            upload_id=upload_id,
            host_name=host,
            item_id=item,
            status="failed",
            start_ts=start,
            end_ts=end,
            duration_seconds=max(0.0, end - start),
            bytes_uploaded=row.uploaded_bytes if row is not None else 0,
            total_bytes=row.total_bytes if row is not None else 0,
            speed_kbps=0.0,
            error_message=message,
            retry_count=retry_count,
            is_retryable=retryable,
            recorded_ts=end,
        )

    def _upsert(self, **values: object) -> None:
        update = {getattr(UploadMetric, k): v for k, v in values.items() if k != "upload_id"}
        UploadMetric.insert(**values).on_conflict(
            conflict_target=[UploadMetric.upload_id], update=update
        ).execute()

    def record_bandwidth_samples(self, samples: dict[str, float], ts: float) -> None:
        """One tick's samples for every host, in one transaction."""
        if not samples:
            return
        with self.db.atomic():
            BandwidthSample.insert_many(
                [{"host_name": h, "ts": ts, "bytes_per_s": v} for h, v in samples.items()]
            ).execute()

    def record_bandwidth_sample(self, host: str, bytes_per_s: float, ts: float) -> None:
        self.record_bandwidth_samples({host: bytes_per_s}, ts)

    def prune_samples(self) -> int:
        cutoff = self.clock() - SAMPLE_RETENTION_S
        return BandwidthSample.delete().where(BandwidthSample.ts < cutoff).execute()

    # ---- aggregates -------------------------------------------------------------------------

    def period_start(self, period: str) -> float:
        if period not in PERIODS:
            raise ValueError(f"unknown period {period!r}")
        if period == "all":
            return 0.0
        if period == "session":
            row = Meta.get_or_none(Meta.key == SESSION_KEY)
            return float(row.value) if row else 0.0
        return self.clock() - _PERIOD_SECONDS[period]

    def stats(self, period: str = "all") -> dict[str, HostStats]:
        """Per-host figures plus "total" for the period."""
        since = self.period_start(period)
        m = UploadMetric
        ok = peewee.Case(None, [(m.status == "success", 1)], 0)
        bad = peewee.Case(None, [(m.status == "failed", 1)], 0)
        ok_dur = peewee.Case(None, [(m.status == "success", m.duration_seconds)], 0)
        ok_bytes = peewee.Case(None, [(m.status == "success", m.bytes_uploaded)], 0)
        rows = (
            m.select(
                m.host_name,
                peewee.fn.SUM(ok).alias("files"),
                peewee.fn.SUM(bad).alias("failed"),
                peewee.fn.SUM(ok_bytes).alias("bytes"),
                peewee.fn.SUM(ok_dur).alias("dur"),
            )
            .where(m.end_ts >= since)
            .group_by(m.host_name)
            .dicts()
        )
        peaks = self._peaks(since)
        result: dict[str, HostStats] = {}
        totals = [0, 0, 0, 0.0]
        for r in rows:
            files, failed, nbytes, dur = (
                int(r["files"] or 0),
                int(r["failed"] or 0),
                int(r["bytes"] or 0),
                float(r["dur"] or 0),
            )
            result[r["host_name"]] = HostStats(
                files,
                failed,
                nbytes,
                nbytes / dur if dur > 0 else 0.0,
                peaks.get(r["host_name"], 0.0),
            )
            for i, v in enumerate((files, failed, nbytes, dur)):
                totals[i] += v
        files, failed, nbytes, dur = totals
        result["total"] = HostStats(
            int(files),
            int(failed),
            int(nbytes),
            nbytes / dur if dur > 0 else 0.0,
            peaks.get("total", 0.0),
        )
        return result

    def _peaks(self, since: float) -> dict[str, float]:
        """Peak speed: the highest 5-second sample, but never below the fastest finished upload's
        own average (an upload shorter than a sampling tick leaves no sample of its speed)."""
        b, m = BandwidthSample, UploadMetric
        per_host = (
            b.select(b.host_name, peewee.fn.MAX(b.bytes_per_s).alias("peak"))
            .where(b.ts >= since)
            .group_by(b.host_name)
            .dicts()
        )
        peaks = {r["host_name"]: float(r["peak"]) for r in per_host}
        fastest = (
            m.select(m.host_name, (peewee.fn.MAX(m.speed_kbps) * 1024).alias("peak"))
            .where((m.end_ts >= since) & (m.status == "success"))
            .group_by(m.host_name)
            .dicts()
        )
        for r in fastest:
            peaks[r["host_name"]] = max(peaks.get(r["host_name"], 0.0), float(r["peak"]))
        per_tick = (
            b.select(peewee.fn.SUM(b.bytes_per_s).alias("total"))
            .where(b.ts >= since)
            .group_by(b.ts)
        )
        total = b.select(peewee.fn.MAX(per_tick.c.total)).from_(per_tick).scalar()
        peaks["total"] = max([float(total or 0.0), *peaks.values()])
        return peaks

    def bandwidth_series(
        self, minutes: float, buckets: int, host: str | None = None
    ) -> list[float]:
        """Total (or one host's) bytes/s over the last `minutes`, as `buckets` averages; gaps are 0."""
        end = self.clock()
        start = end - minutes * 60
        width = (end - start) / buckets
        b = BandwidthSample
        query = b.select(b.ts, peewee.fn.SUM(b.bytes_per_s).alias("v")).where(b.ts >= start)
        if host is not None:
            query = query.where(b.host_name == host)
        sums = [0.0] * buckets
        counts = [0] * buckets
        for r in query.group_by(b.ts).dicts():
            i = min(buckets - 1, int((r["ts"] - start) / width))
            sums[i] += r["v"]
            counts[i] += 1
        return [s / c if c else 0.0 for s, c in zip(sums, counts, strict=True)]
