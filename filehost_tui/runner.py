"""The headless face: `filehost-tui run` turns engine events into log lines (or JSON lines).

One line per state change and a periodic summary while work is running, never a line per progress
event. Importing this module must not import textual (tests check it in a fresh interpreter).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import TextIO

from filehost_tui.app_logging import setup_file_logging
from filehost_tui.engine import events
from filehost_tui.engine.engine import Engine
from filehost_tui.engine.eta import queue_eta
from filehost_tui.engine.models import FileHostUpload
from filehost_tui.engine.queue_reads import QueueReads
from filehost_tui.engine.queue_store import ANY_RUNNER
from filehost_tui.engine.states import Status
from filehost_tui.printable import printable
from filehost_tui.units import human_duration, human_speed

log = logging.getLogger("filehost_tui.runner")

SUMMARY_EVERY_S = 15.0
IDLE_CHECK_S = 0.5
IDLE_LOOK_S = 0.05
NAMES_READ_AHEAD = 200  # item names read at once for the lines
NAMES_KEPT = 10_000
STORAGE_PATIENCE_S = 30.0  # --until-idle gives up this long after writes began to fail


class LinePrinter:
    """Formats events for people or for scripts; thread-safe (workers call it)."""

    def __init__(self, out: TextIO, as_json: bool, names: Callable[[int], str]) -> None:
        self.ended = threading.Event()  # set when an upload finishes: time to re-check idleness
        self.out = out
        self.as_json = as_json
        self.names = names
        self.lock = threading.Lock()
        self.total_rate = 0.0
        self._gone = False

    def __call__(self, event: events.Event) -> None:
        if isinstance(event, events.BandwidthUpdated):
            if event.host is None:
                self.total_rate = event.bytes_per_s
            return
        if isinstance(event, events.UploadProgress):
            return
        if isinstance(event, events.DatabaseTrouble):
            self._trouble(event)
            return
        if isinstance(event, events.UploadCompleted | events.UploadFailed):
            self.ended.set()
        if self.as_json:
            kind = {
                events.UploadStarted: "started",
                events.UploadCompleted: "completed",
                events.UploadFailed: "failed",
            }[type(event)]
            self.emit_json({"event": kind, **event.__dict__})
            return
        name = self.names(event.item_id)
        if isinstance(event, events.UploadStarted):
            text = f"upload {event.upload_id} started: {name} -> {event.host}"
        elif isinstance(event, events.UploadCompleted):
            text = f"upload {event.upload_id} completed: {name} -> {event.host}: {event.url}"
        else:
            then = "will retry" if event.will_retry else "failed"
            text = f"upload {event.upload_id} {then}: {name} -> {event.host}: {event.error_kind}: {event.message}"
        self.line(text)

    def _trouble(self, event: events.DatabaseTrouble) -> None:
        if self.as_json:
            self.emit_json({"event": "database_trouble", **event.__dict__})
        elif event.message is None:
            self.line("the database takes writes again; waiting outcomes are recorded")
        else:
            waiting = (
                f"; {event.unsaved} finished upload(s) wait in memory (links in the log)"
                if event.unsaved
                else ""
            )
            self.line(f"cannot write the database: {event.message}{waiting}; {event.hint}")

    def line(self, text: str) -> None:
        text = printable(text)
        log.info(text)
        self._write(f"{time.strftime('%H:%M:%S')} {text}")

    def emit_json(self, obj: dict[str, object]) -> None:
        if obj.get("event") != "summary":
            log.info("%s", obj)
        self._write(json.dumps({"ts": round(time.time(), 3), **obj}))

    def _write(self, text: str) -> None:
        """A reader that went away (`run | head`, a closed ssh channel) must not stop the uploads:
        the lines stop, the log file keeps them."""
        with self.lock:
            if self._gone:
                return
            try:
                print(text, file=self.out, flush=True)
            except (BrokenPipeError, ValueError):
                self._gone = True
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    # or Python reports the broken pipe again when it flushes stdout at exit
                    devnull = os.open(os.devnull, os.O_WRONLY)
                    try:
                        os.dup2(devnull, self.out.fileno())
                    finally:
                        os.close(devnull)
                log.warning("output closed; uploads go on, lines go to the log file only")


def queue_counts() -> dict[str, int]:
    """From the kept per-(host, status) counts: a summary never walks the whole history."""
    counted = QueueReads(FileHostUpload._meta.database).counts()
    return {str(s): sum(n for (_, status), n in counted.items() if status == s) for s in Status}


def run(
    engine: Engine,
    printer: LinePrinter,
    *,
    until_idle: bool,
    storage_patience: float = STORAGE_PATIENCE_S,
) -> int:
    """Process the queue until interrupted (or until idle); exit 1 if an upload ended failed, or
    if --until-idle gave up on a database that takes no writes."""
    setup_file_logging(engine.paths)
    stop = threading.Event()
    interrupted: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        interrupted.append(signum)
        stop.set()
        printer.ended.set()

    # SIGHUP: the ssh session that started `run` went away; stop as cleanly as for SIGTERM
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, on_signal) for s in stops}
    gave_up = None
    try:
        engine.take_lock()  # a refused start must not print "runner started" first
        _announce(printer, engine)
        engine.start()
        last_summary = time.monotonic()
        last_look = 0.0
        while not stop.is_set():
            printer.ended.wait(IDLE_CHECK_S)
            # uploads end in bursts (hundreds a second with small files): look at the queue at
            # most every IDLE_LOOK_S, not once per upload
            stop.wait(last_look + IDLE_LOOK_S - time.monotonic())
            printer.ended.clear()
            if stop.is_set() or (until_idle and _idle(engine)):
                break
            last_look = time.monotonic()
            if until_idle and (gave_up := _stuck_on_storage(engine, storage_patience)):
                break
            if time.monotonic() - last_summary >= SUMMARY_EVERY_S and engine.busy():
                last_summary = time.monotonic()
                _summary(printer, engine)
    finally:
        engine.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _summary(printer, engine, final=True)
    if interrupted:
        return 128 + interrupted[0]
    if gave_up:
        printer.line(gave_up)
        return 1
    return 1 if engine.counters["failed"] else 0


def _stuck_on_storage(engine: Engine, patience: float) -> str | None:
    """With nothing running, waiting longer for a full disk would make --until-idle hang."""
    trouble = engine.unsaved.trouble
    if trouble is None or engine.busy() or time.monotonic() - trouble.since < patience:
        return None
    kept = len(engine.unsaved)
    links = (
        f"; {kept} finished upload(s) not recorded: their links are in the log and in "
        f"{engine.unsaved.journal}, and the next run records them"
        if kept
        else ""
    )
    return f"stopped: cannot write the database ({trouble.message}){links}; free some disk space"


def make_printer(out: TextIO, as_json: bool) -> LinePrinter:
    cache: dict[int, str] = {}

    def name(item_id: int) -> str:
        if item_id not in cache:
            if len(cache) > NAMES_KEPT:
                cache.clear()
            # the database the models are bound to by then (the printer is made before it opens)
            reads = QueueReads(FileHostUpload._meta.database)
            cache.update(reads.item_names(item_id, NAMES_READ_AHEAD))
        return cache.get(item_id, f"item {item_id}")

    return LinePrinter(out, as_json, name)


def _announce(printer: LinePrinter, engine: Engine) -> None:
    waiting = engine.reads.hosts_waiting_outside(engine.enabled_hosts())
    if printer.as_json:
        printer.emit_json(
            {"event": "runner_started", "runner": engine.name, "hosts_not_running": waiting}
        )
        return
    printer.line(f"runner started: {engine.name}")
    if waiting:
        printer.line(
            f"uploads for {', '.join(waiting)} wait: those hosts are disabled or unknown "
            "(see `filehost-tui hosts`)"
        )


def _idle(engine: Engine) -> bool:
    """Nothing pending or uploading for a running host, and no paused row whose attempt is still
    collecting its link (rows are final before their event is emitted, so this is right even
    while a finished job's thread is still tidying up)."""
    return not engine.reads.has_open(
        list(engine.hosts), engine.running_leases(), (engine.name, ANY_RUNNER)
    )


def _summary(printer: LinePrinter, engine: Engine, final: bool = False) -> None:
    """Counts, and while running the speed and the queue's time left at that speed (both from
    the engine's meter: docs/architecture.md, 'The speed meter')."""
    counts = queue_counts()
    done = engine.counters
    eta = None if final else queue_eta(engine.reads.bytes_left(), {"": printer.total_rate})
    if printer.as_json:
        printer.emit_json(
            {
                "event": "summary",
                "final": final,
                "completed_this_run": done["completed"],
                "failed_this_run": done["failed"],
                "bytes_per_s": round(printer.total_rate, 1),
                "eta_s": None if eta is None else round(eta, 1),
                "queue": counts,
            }
        )
        return
    printer.line(
        ("finished: " if final else "")
        + f"{done['completed']} completed and {done['failed']} failed this run; queue: "
        + ", ".join(f"{v} {k}" for k, v in counts.items() if v)
        + ("" if final else f"; {human_speed(printer.total_rate)}")
        + ("" if eta is None else f", about {human_duration(eta)} left")
    )
