"""The lifecycle table is the one rule: the store's Lua script obeys it move for move, and
"a job finished" is announced exactly once per job, wherever it finished."""

from __future__ import annotations

import pytest

from config import queues as q
from pools import lifecycle as lc
from pools.jobs import JobStore


@pytest.fixture()
def store(redis_client) -> JobStore:
    return JobStore(redis_client)


@pytest.fixture()
def finished():
    seen: list[tuple[str, str]] = []
    lc.on_finished("test", lambda store, record: seen.append((record["id"], record["status"])))
    yield seen
    lc._finished.pop("test", None)


def _force(store: JobStore, job_id: str, status: str) -> None:
    store.create(job_id, kind="diag", queue="diag", actor="diag")
    store.redis.hset(q.job_key(job_id), "status", status)
    store.redis.zrem(q.job_index_key(status=lc.QUEUED), job_id)
    store.redis.zadd(q.job_index_key(status=status), {job_id: 1})


@pytest.mark.parametrize("event", sorted(lc.EVENTS))
def test_every_event_moves_exactly_from_its_sources_in_the_store(store, event):
    move = lc.EVENTS[event]
    for status in lc.STATUSES:
        job_id = f"{event}-{status}"
        _force(store, job_id, status)
        applied, previous = store.transition(job_id, event)
        assert previous == status
        assert applied == lc.allowed(event, status), (event, status)
        expected = move.target if applied else status
        assert store.get(job_id)["status"] == expected
        members = store.redis.zrange(q.job_index_key(status=expected), 0, -1)
        assert job_id.encode() in members, "the status index follows the record"


def test_an_unknown_event_is_refused_before_it_reaches_redis(store):
    store.create("a", kind="diag", queue="diag", actor="diag")
    with pytest.raises(ValueError, match="unknown lifecycle event"):
        store.transition("a", "teleport")


def test_a_job_that_finishes_is_announced_once_and_a_refused_move_is_not(store, finished):
    store.create("a", kind="diag", queue="diag", actor="diag")
    store.transition("a", "start")
    store.transition("a", "succeed")
    store.transition("a", "succeed")
    store.transition("a", "fail")
    assert finished == [("a", lc.SUCCEEDED)]


def test_a_cancel_in_the_api_is_announced_like_a_finish_in_a_worker(store, finished):
    store.create("a", kind="diag", queue="diag", actor="diag")
    store.transition("a", "cancel")
    assert finished == [("a", lc.CANCELLED)]


def _batch(store: JobStore, children: int) -> list[str]:
    store.create("p", kind="b", queue="diag", actor="diag", children_total=children)
    ids = [f"c{i}" for i in range(children)]
    for child in ids:
        store.create(child, kind="diag", queue="diag", actor="diag", parent_id="p")
    return ids


def test_a_batch_parent_opens_settles_and_is_announced_once(store, finished):
    c0, c1 = _batch(store, 2)
    store.transition(c0, "start")
    assert store.get("p")["status"] == lc.RUNNING
    store.transition(c1, "start")
    store.transition(c0, "die", error_type="TransientError")
    store.transition(c1, "fail", error_type="bad_input")
    parent = store.get("p")
    assert parent["status"] == lc.FAILED and parent["error_type"] == "children"
    assert ("p", lc.FAILED) in finished and finished.count(("p", lc.FAILED)) == 1


def test_requeueing_dead_children_reopens_the_parent_and_keeps_counts_within_the_children(
        store, finished):
    c0, c1 = _batch(store, 2)
    for _ in range(3):  # dead, requeued, dead again ... three times over
        for child in (c0, c1):
            store.transition(child, "start")
            store.transition(child, "die", error_type="TransientError")
        assert store.get("p")["status"] == lc.FAILED
        for child in (c0, c1):
            store.transition(child, "requeue", error_type=None)
        parent = store.get("p")
        assert parent["status"] == lc.RUNNING, "a finished child running again reopens it"
        assert parent["children_done"] == 0 and parent.get("errors_TransientError", 0) == 0
    store.transition(c0, "start")
    store.transition(c0, "succeed")
    store.transition(c1, "start")
    store.transition(c1, "die", error_type="TransientError")
    parent = store.get("p")
    assert parent["status"] == lc.SUCCEEDED
    assert (parent["children_done"], parent["children_succeeded"], parent["children_dead"]) \
        == (2, 1, 1)
    assert parent["errors_TransientError"] == 1
    assert finished.count(("p", lc.FAILED)) == 3 and finished.count(("p", lc.SUCCEEDED)) == 1


def test_a_cancelled_batch_settles_cancelled_when_its_last_child_stops(store):
    c0, c1 = _batch(store, 2)
    store.transition(c0, "start")
    store.request_cancel("p")
    store.transition(c1, "cancel")
    store.transition(c0, "stop")
    assert store.get("p")["status"] == lc.CANCELLED
