"""Control, the one path for user actions: a row change, then a ring of the runner's doorbell."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from filehost_tui.engine.control import Control
from filehost_tui.engine.database import open_database
from filehost_tui.engine.doorbell import Doorbell
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.engine.states import IllegalTransition, Status
from filehost_tui.paths import AppPaths
from tests.conftest import HOSTS

DEADLINE_S = 10


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    paths = AppPaths.resolve(tmp_path / "home")
    paths.ensure()
    return paths


@pytest.fixture
def control(paths: AppPaths) -> Iterator[Control]:
    db = open_database(paths.database)
    yield Control(QueueStore(db, host_limits=HOSTS), paths, keep_archives=False)
    db.close()


@pytest.fixture
def rung(paths: AppPaths) -> Iterator[threading.Event]:
    event = threading.Event()
    bell = Doorbell(paths, event.set)
    yield event
    bell.close()


def test_add_queues_and_rings_the_doorbell(control, rung, sample_file):
    ids = control.add([sample_file], ["alpha", "beta"])

    assert [control.queue.get(i).status for i in ids] == [Status.PENDING, Status.PENDING]
    assert rung.wait(DEADLINE_S)


def test_apply_reports_each_upload_and_a_refusal_as_a_value(control, rung, sample_file):
    first, second = control.add([sample_file], ["alpha", "beta"])
    control.cancel(second)
    rung.clear()

    outcomes = dict(control.apply("cancel", [first, second]))

    assert outcomes[first] == Status.CANCELLED
    assert isinstance(outcomes[second], IllegalTransition)
    assert rung.wait(DEADLINE_S)


def test_a_single_refused_action_raises(control, sample_file):
    (upload_id,) = control.add([sample_file], ["alpha"])
    control.cancel(upload_id)

    with pytest.raises(IllegalTransition):
        control.resume(upload_id)
