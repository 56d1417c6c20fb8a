"""The upload state machine and QueueStore on a real SQLite file and a real PostgreSQL schema."""

from __future__ import annotations

import pytest

from filehost_tui.engine.models import FileHostUpload
from filehost_tui.engine.states import TRANSITIONS, Action, IllegalTransition, Status
from filehost_tui.errors import ErrorKind, UserError

pytestmark = pytest.mark.both_databases


def row(upload_id: int) -> FileHostUpload:
    return FileHostUpload.get_by_id(upload_id)


def put_in(store, upload_id: int, status: Status) -> None:
    """Drive an upload to `status` through legal transitions only."""
    if status == Status.PENDING:
        return
    if status == Status.PAUSED:
        assert store.claim("alpha", "w1").id == upload_id
        store.pause(upload_id)  # mid-transfer: the attempt keeps its lease
        return
    if status == Status.CANCELLED:
        store.cancel(upload_id)
        return
    assert store.claim("alpha", "w1").id == upload_id
    if status == Status.COMPLETED:
        store.complete(upload_id, "http://127.0.0.1/f/1", "1")
    elif status == Status.FAILED:
        store.fail(
            upload_id, ErrorKind.AUTH, "bad key", retryable=False, max_retries=3, base_delay=1
        )


def apply(store, upload_id: int, action: Action):
    calls = {
        Action.CLAIM: lambda: (
            store.claim("alpha", "w2")
            or (_ for _ in ()).throw(IllegalTransition(upload_id, row(upload_id).status, action))
        ),
        Action.COMPLETE: lambda: store.complete(
            upload_id, "http://127.0.0.1/f/2", "2", lease=row(upload_id).lease_owner
        ),
        Action.RETRY_LATER: lambda: store.fail(
            upload_id, ErrorKind.SERVER, "503", retryable=True, max_retries=3, base_delay=1
        ),
        Action.FAIL: lambda: store.fail(
            upload_id, ErrorKind.AUTH, "no", retryable=False, max_retries=3, base_delay=1
        ),
        Action.PAUSE: lambda: store.pause(upload_id),
        Action.DRAIN: lambda: store.drain(upload_id),
        Action.RESUME: lambda: store.resume(upload_id),
        Action.CANCEL: lambda: store.cancel(upload_id),
        Action.RETRY: lambda: store.retry(upload_id),
        Action.REQUEUE: lambda: _requeue_strict(store, upload_id),
    }
    return calls[action]()


def _requeue_strict(store, upload_id):
    from filehost_tui.engine.states import target

    target(upload_id, row(upload_id).status, Action.REQUEUE)
    store.requeue(upload_id)


ALL_CASES = [(s, a) for s in Status for a in Action]


@pytest.mark.parametrize(("status", "action"), ALL_CASES, ids=[f"{s}-{a}" for s, a in ALL_CASES])
def test_every_transition_is_legal_or_raises_and_changes_nothing(
    store, sample_file, status, action
):
    (upload_id,) = store.add([sample_file], ["alpha"])
    put_in(store, upload_id, status)
    before = row(upload_id).__data__.copy()
    assert before["status"] == status
    expected = TRANSITIONS.get((status, action))
    if expected is None:
        with pytest.raises(IllegalTransition):
            apply(store, upload_id, action)
        assert row(upload_id).__data__ == before
    else:
        apply(store, upload_id, action)
        assert row(upload_id).status == expected


def test_retryable_failure_backs_off_then_fails_when_retries_run_out(store, sample_file, clock):
    (upload_id,) = store.add([sample_file], ["alpha"])
    for attempt in range(2):
        assert store.claim("alpha", "w") is not None
        status = store.fail(
            upload_id, ErrorKind.SERVER, "503", retryable=True, max_retries=2, base_delay=2
        )
        assert status == Status.PENDING
        r = row(upload_id)
        assert r.retry_count == attempt + 1
        assert r.next_attempt_ts == clock.now + 2 * 2**attempt  # jitter fixed at its maximum
        assert store.claim("alpha", "w") is None, "not due yet"
        clock.now = r.next_attempt_ts
    store.claim("alpha", "w")
    assert (
        store.fail(upload_id, ErrorKind.SERVER, "503", retryable=True, max_retries=2, base_delay=2)
        == Status.FAILED
    )
    assert row(upload_id).finished_ts == clock.now


def test_retry_after_from_the_host_wins_over_a_shorter_backoff(store, sample_file, clock):
    (upload_id,) = store.add([sample_file], ["alpha"])
    store.claim("alpha", "w")
    store.fail(
        upload_id,
        ErrorKind.RATE_LIMITED,
        "429",
        retryable=True,
        max_retries=5,
        base_delay=1,
        retry_after=90,
    )
    assert row(upload_id).next_attempt_ts == clock.now + 90


def test_a_failing_row_does_not_block_the_next_one(store, tmp_path, sample_file, clock):
    other = tmp_path / "other.bin"
    other.write_bytes(b"y" * 10)
    first, second = store.add([sample_file, other], ["alpha"])
    assert store.claim("alpha", "w").id == first
    store.fail(first, ErrorKind.SERVER, "503", retryable=True, max_retries=5, base_delay=60)
    assert store.claim("alpha", "w").id == second


def test_user_retry_resets_the_count(store, sample_file):
    (upload_id,) = store.add([sample_file], ["alpha"])
    store.claim("alpha", "w")
    store.fail(upload_id, ErrorKind.AUTH, "denied", retryable=False, max_retries=5, base_delay=1)
    store.retry(upload_id)
    r = row(upload_id)
    assert (r.status, r.retry_count, r.error_message) == ("pending", 0, None)


def test_complete_without_a_link_is_refused(store, sample_file):
    (upload_id,) = store.add([sample_file], ["alpha"])
    store.claim("alpha", "w")
    with pytest.raises(ValueError):
        store.complete(upload_id, "", None)
    assert row(upload_id).status == Status.UPLOADING


def test_recover_returns_expired_leases_only(store, tmp_path, sample_file, clock):
    other = tmp_path / "other.bin"
    other.write_bytes(b"y" * 10)
    a, b = store.add([sample_file, other], ["alpha"])
    store.claim("alpha", "dead")
    clock.now += store.lease_seconds + 1
    store.claim("alpha", "alive")
    assert store.recover() == [a]
    assert row(a).status == Status.PENDING and row(a).retry_count == 0
    assert row(b).status == Status.UPLOADING
    assert store.recover(expired_only=False) == [b]


def test_progress_renews_the_lease_while_this_attempt_holds_the_row(store, sample_file, clock):
    (upload_id,) = store.add([sample_file], ["alpha"])
    first = store.claim("alpha", "w")
    clock.now += 20
    store.progress(upload_id, 500, first.lease)
    assert row(upload_id).lease_expires_ts == clock.now + store.lease_seconds
    assert store.holders([upload_id]) == {upload_id: ("uploading", first.lease)}
    store.pause(upload_id)
    store.progress(upload_id, 600, first.lease)
    assert row(upload_id).uploaded_bytes == 0, "paused: its bytes are sent again on resume"
    assert store.holders([upload_id]) == {upload_id: ("paused", first.lease)}
    store.resume(upload_id)
    assert store.holders([upload_id]) == {upload_id: ("pending", None)}


def test_only_the_attempt_that_was_sending_may_complete_a_paused_row(store, tmp_path):
    """A pause that lands after every byte was sent must not throw the link away."""
    files = []
    for n in range(2):
        files.append(tmp_path / f"f{n}.bin")
        files[-1].write_bytes(b"x" * 10)
    sending, waiting = store.add(files, ["alpha"])
    attempt = store.claim("alpha", "w")
    assert attempt.id == sending
    store.pause(sending)
    store.pause(waiting)
    with pytest.raises(IllegalTransition):
        store.complete(sending, "http://127.0.0.1/f/1", None)  # no lease: not the attempt
    with pytest.raises(IllegalTransition):
        store.complete(sending, "http://127.0.0.1/f/1", None, lease="w/someone-else")
    with pytest.raises(IllegalTransition):
        store.complete(waiting, "http://127.0.0.1/f/2", None)  # paused before any attempt
    with pytest.raises(IllegalTransition):
        store.fail(
            sending,
            ErrorKind.SERVER,
            "late",
            retryable=True,
            max_retries=3,
            base_delay=1,
            lease=attempt.lease,
        )
    assert row(sending).status == row(waiting).status == Status.PAUSED
    store.complete(sending, "http://127.0.0.1/f/1", "1", lease=attempt.lease)
    r = row(sending)
    assert (r.status, r.download_url, r.lease_owner) == ("completed", "http://127.0.0.1/f/1", None)


def test_a_superseded_attempt_cannot_finish_the_row(store, sample_file):
    """Paused and resumed at once: the old transfer's late result must not touch the new one."""
    (upload_id,) = store.add([sample_file], ["alpha"])
    old = store.claim("alpha", "w")
    store.pause(upload_id)
    store.resume(upload_id)
    new = store.claim("alpha", "w")
    assert new.lease != old.lease
    with pytest.raises(IllegalTransition):
        store.complete(upload_id, "http://127.0.0.1/old", None, lease=old.lease)
    with pytest.raises(IllegalTransition):
        store.fail(
            upload_id,
            ErrorKind.SERVER,
            "late",
            retryable=True,
            max_retries=3,
            base_delay=1,
            lease=old.lease,
        )
    store.progress(upload_id, 999, old.lease)
    store.requeue(upload_id, lease=old.lease)
    r = row(upload_id)
    assert (r.status, r.uploaded_bytes, r.lease_owner) == ("uploading", 0, new.lease)
    store.complete(upload_id, "http://127.0.0.1/new", None, lease=new.lease)
    assert row(upload_id).download_url == "http://127.0.0.1/new"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: [p.parent / "missing.bin"], "no such file or folder"),
        (lambda p: [p.parent / "emptydir"], "folder is empty"),
        (lambda p: [p, p], "given twice"),
    ],
)
def test_bad_paths_are_refused_and_nothing_is_written(store, sample_file, make, message):
    (sample_file.parent / "emptydir").mkdir()
    with pytest.raises(UserError, match=message):
        store.add(make(sample_file), ["alpha"])
    assert FileHostUpload.select().count() == 0


def test_an_item_larger_than_a_hosts_limit_is_queued_as_volumes(store, sample_file):
    ids = store.add([sample_file], ["alpha", "tiny"])  # 1000 bytes; tiny takes 10 at most

    rows = [FileHostUpload.get_by_id(i) for i in ids]
    assert [(r.host_name, r.volume, r.volumes) for r in rows[:2]] == [
        ("alpha", 0, 0),
        ("tiny", 1, 100),
    ]
    volumes = rows[1:]
    assert [r.volume for r in volumes] == list(range(1, 101))
    assert [(r.volume_offset, r.total_bytes) for r in volumes] == [(10 * n, 10) for n in range(100)]


def test_unknown_host_and_duplicates_are_refused(store, sample_file):
    with pytest.raises(UserError, match="unknown host 'nope'; known hosts: alpha, beta, tiny"):
        store.add([sample_file], ["nope"])
    assert FileHostUpload.select().count() == 0
    store.add([sample_file], ["alpha"])
    with pytest.raises(UserError, match="already queued for alpha as upload 1"):
        store.add([sample_file], ["beta", "alpha"])
    assert FileHostUpload.select().count() == 1


def test_a_cancelled_upload_can_be_queued_again(store, sample_file):
    (upload_id,) = store.add([sample_file], ["alpha"])
    store.cancel(upload_id)
    (again,) = store.add([sample_file], ["alpha"])
    assert again != upload_id


def test_a_completed_upload_can_be_queued_again_and_keeps_its_link(store, sample_file):
    """Links on file hosts die; sending the file again must be one `add` away."""
    (first,) = store.add([sample_file], ["alpha"])
    assert store.claim("alpha", "w").id == first
    store.complete(first, "http://127.0.0.1/f/old", "old")
    (again,) = store.add([sample_file], ["alpha"])
    assert again != first
    assert row(first).download_url == "http://127.0.0.1/f/old"
    assert (row(again).status, row(again).item_id != row(first).item_id) == ("pending", True)


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (Status.PENDING, "`filehost-tui status` says where it stands"),  # (it may wait: host off)
        (Status.PAUSED, "`filehost-tui resume 1` continues it"),
        (Status.FAILED, "`filehost-tui retry 1` tries it again"),
    ],
)
def test_adding_a_path_still_in_the_queue_names_the_command_that_acts_on_it(
    store, sample_file, status, hint
):
    (upload_id,) = store.add([sample_file], ["alpha"])
    put_in(store, upload_id, status)
    with pytest.raises(UserError) as caught:
        store.add([sample_file], ["alpha"])
    assert str(caught.value).endswith(f"as upload 1 ({status}); {hint}")
    assert FileHostUpload.select().count() == 1


def test_folder_item_counts_files_and_bytes(store, tmp_path):
    folder = tmp_path / "gallery"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jpg").write_bytes(b"a" * 100)
    (folder / "sub" / "b.jpg").write_bytes(b"b" * 50)
    ids = store.add([folder], ["alpha", "beta"], name="My gallery")
    uploads = store.uploads()
    assert [u.id for u in uploads] == ids
    item = uploads[0].item
    assert (item.kind, item.name, item.total_size, item.file_count) == (
        "folder",
        "My gallery",
        150,
        2,
    )


def test_a_paused_or_requeued_row_says_its_bytes_will_be_sent_again(store, sample_file, clock):
    """No host takes the rest of a partial upload: a row waiting again has sent nothing."""
    (upload_id,) = store.add([sample_file], ["alpha"])
    attempt = store.claim("alpha", "w")
    store.progress(upload_id, 7, attempt.lease)
    assert store.pause(upload_id) == Status.PAUSED
    assert row(upload_id).uploaded_bytes == 0
    store.resume(upload_id)
    attempt = store.claim("alpha", "w")
    store.progress(upload_id, 7, attempt.lease)
    store.fail(upload_id, ErrorKind.SERVER, "503", retryable=True, max_retries=3, base_delay=1)
    assert (row(upload_id).status, row(upload_id).uploaded_bytes) == (Status.PENDING, 0)
    clock.now += 10
    attempt = store.claim("alpha", "w")
    store.progress(upload_id, 7, attempt.lease)
    store.requeue(upload_id, lease=attempt.lease)
    assert (row(upload_id).status, row(upload_id).uploaded_bytes) == (Status.PENDING, 0)


def test_a_pause_after_every_byte_was_sent_keeps_them_and_the_link_still_comes(store, sample_file):
    (upload_id,) = store.add([sample_file], ["alpha"])
    attempt = store.claim("alpha", "w")
    store.progress(upload_id, attempt.total_bytes, attempt.lease)
    store.pause(upload_id)
    assert row(upload_id).uploaded_bytes == attempt.total_bytes
    store.complete(upload_id, "http://127.0.0.1/f/9", "9", lease=attempt.lease)
    assert (row(upload_id).status, row(upload_id).uploaded_bytes) == (
        Status.COMPLETED,
        attempt.total_bytes,
    )


def test_drain_pauses_a_waiting_row_and_leaves_a_running_one_alone(store, tmp_path):
    for name in ("a.bin", "b.bin"):
        (tmp_path / name).write_bytes(b"x" * 10)
    waiting, running = store.add([tmp_path / "a.bin", tmp_path / "b.bin"], ["alpha"])
    FileHostUpload.update(next_attempt_ts=1.0).where(FileHostUpload.id == waiting).execute()
    assert store.claim("alpha", "w").id == running
    assert store.drain(waiting) == Status.PAUSED
    with pytest.raises(IllegalTransition, match="is uploading; cannot drain it"):
        store.drain(running)
    assert row(running).status == Status.UPLOADING
