"""The job-state store on a real Valkey: transitions, indexes, batches, idempotency."""

from __future__ import annotations

import pytest

from pools import jobs as j
from pools.jobs import JobStore


@pytest.fixture()
def store(redis_client) -> JobStore:
    return JobStore(redis_client)


def test_a_transition_moves_the_job_between_status_indexes(store):
    store.create("a", kind="solve", queue="solve", actor="solve")
    assert store.transition("a", "start") == (True, j.QUEUED)
    assert [r["id"] for r in store.list(status=j.RUNNING).items] == ["a"]
    assert store.list(status=j.QUEUED).items == []
    assert [r["id"] for r in store.list(kind="solve", status=j.RUNNING).items] == ["a"]


def test_a_transition_from_a_disallowed_status_is_refused(store):
    store.create("a", kind="diag", queue="diag", actor="diag")
    store.transition("a", "cancel")
    applied, previous = store.transition("a", "start")
    assert (applied, previous) == (False, j.CANCELLED)
    assert store.get("a")["status"] == j.CANCELLED


def test_an_unknown_job_cannot_transition(store):
    assert store.transition("nope", "start") == (False, None)


def test_listing_is_newest_first_and_pages_with_a_cursor(store):
    for name in "abcde":
        store.create(name, kind="diag", queue="diag", actor="diag")
    first = store.list(limit=2)
    assert [r["id"] for r in first.items] == ["e", "d"]
    second = store.list(limit=2, cursor=first.next_cursor)
    assert [r["id"] for r in second.items] == ["c", "b"]
    last = store.list(limit=2, cursor=second.next_cursor)
    assert [r["id"] for r in last.items] == ["a"] and last.next_cursor is None


def test_children_finishing_update_the_parent_counts_once_even_when_retried(store):
    store.create("p", kind="scrape-batch", queue="scrape", actor="scrape", children_total=2)
    for child in ("c1", "c2"):
        store.create(child, kind="scrape", queue="scrape", actor="scrape", parent_id="p")
        store.transition(child, "start")
    store.transition("c1", "fail", error_type="blocked", error_message="robots")
    store.transition("c1", "requeue", error_type=None)  # retried through the API
    store.transition("c1", "start")
    store.transition("c1", "fail", error_type="blocked", error_message="robots")
    store.transition("c2", "succeed")
    parent = store.get("p")
    assert parent["children_done"] == 2
    assert parent["children_failed"] == 1 and parent["children_succeeded"] == 1
    assert parent["errors_blocked"] == 1, "errors count children, not attempts"
    assert parent["status"] == j.SUCCEEDED
    assert store.children("p") == ["c1", "c2"]


def test_an_idempotency_key_is_held_by_the_first_job(store):
    assert store.claim_idempotency("diag", "k", "job-1", 60) is None
    assert store.claim_idempotency("diag", "k", "job-2", 60) == "job-1"
    assert store.claim_idempotency("solve", "k", "job-3", 60) is None


def test_finished_records_expire_and_cleanup_prunes_their_index_entries(store):
    store.create("old", kind="diag", queue="diag", actor="diag")
    store.transition("old", "start")
    store.transition("old", "succeed")
    assert 0 < store.redis.ttl("repertory:job:old") <= store.record_ttl_s
    store.redis.delete("repertory:job:old")  # as if the TTL ran out
    assert store.prune_indexes(older_than_s=0) >= 2
    assert store.list().items == []


def test_progress_and_the_cancel_flag_are_recorded(store):
    store.create("a", kind="diag", queue="diag", actor="diag")
    store.set_progress("a", 3, 10, objective=812)
    store.request_cancel("a")
    record = store.get("a")
    assert record["progress"]["done"] == 3 and record["progress"]["objective"] == 812
    assert store.cancel_requested("a")


def test_a_new_attempt_clears_the_last_ones_error_and_counts_itself(store):
    store.create("r", kind="diag", queue="diag", actor="diag")
    clear = {"error_type": None, "error_message": None}
    assert store.transition("r", "start", worker="w:1", **clear) == (True, "queued")
    store.transition("r", "retry_later", error_type="TransientError", error_message="busy")
    failed = store.get("r")
    assert (failed["status"], failed["attempts"], failed["error_type"]) == (
        "retrying", 1, "TransientError")
    assert store.transition("r", "start", worker="w:2", **clear) == (True, "retrying")
    again = store.get("r")
    assert (again["status"], again["attempts"], again["worker"]) == ("running", 2, "w:2")
    assert "error_type" not in again and "error_message" not in again
    assert store.transition("r", "succeed", has_result=1) == (True, "running")
    assert store.get("r")["attempts"] == 2
