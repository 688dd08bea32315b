"""Batches through the API on real workers: retrying a failed batch retries its failed and dead
children; the parent's status and counts follow its children through retries and requeues."""

from __future__ import annotations

import dramatiq
import pytest
from stack_support import wait_until

from config.settings import Settings
from pools.broker import build_broker
from pools.service import JobService

FINAL = {"succeeded", "failed", "dead", "cancelled"}


@pytest.fixture()
def submitter(make_stack, monkeypatch):
    """A stack, and a JobService in this process submitting batches of the real diag actor."""
    stack = make_stack()
    stack.start_api()
    stack.start_pool("cpu", processes=1, threads=2)
    monkeypatch.setenv("REDIS_URL", stack.redis_url)
    broker = build_broker(Settings(), set_global=False)

    @dramatiq.actor(broker=broker, queue_name="diag", actor_name="diag")
    def diag(mode: str = "ok", seconds: float = 0.0, failures: int = 0) -> None:
        raise AssertionError("runs in the worker, not here")

    def submit(*modes: str) -> str:
        service = JobService(Settings(), broker)
        items = [((), {"mode": mode}) for mode in modes]
        return service.submit_batch("diag", kind="diag-batch", child_kind="diag",
                                    items=items).job["id"]

    return stack, submit


def _settled(stack, parent_id: str) -> dict:
    return wait_until(lambda: (p := stack.job(parent_id))["status"] in FINAL
                      and all(c["status"] in FINAL for c in _children(stack, parent_id)) and p,
                      90, what=f"batch {parent_id} to settle")


def _children(stack, parent_id: str) -> list[dict]:
    return [stack.job(c) for c in stack.job(parent_id)["children"]["ids"]]


def test_retrying_a_failed_batch_retries_its_failed_and_dead_children_and_counts_children(
        submitter):
    stack, submit = submitter
    parent_id = submit("bad", "fail", "ok")
    parent = _settled(stack, parent_id)
    assert parent["status"] == "succeeded"  # one child succeeded
    statuses = sorted(c["status"] for c in _children(stack, parent_id))
    assert statuses == ["dead", "failed", "succeeded"]

    response = stack.http.post(f"/v1/jobs/{parent_id}/retry")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "running", "retried children reopen the batch"
    for _ in range(3):  # settle, then requeue the dead child from the dead letters, again
        parent = _settled(stack, parent_id)
        assert parent["status"] == "succeeded"
        counts = parent["children"]
        assert (counts["total"], counts["done"], counts["succeeded"], counts["failed"],
                counts["dead"]) == (3, 3, 1, 1, 1)
        assert counts["by_error"] == {"bad_input": 1, "transient": 1}, \
            "errors count children, not attempts"
        requeued = stack.http.post("/v1/queues/diag/dead/requeue", json={"all": True})
        assert requeued.status_code == 200 and len(requeued.json()["requeued"]) == 1
        assert stack.job(parent_id)["status"] == "running"


def test_a_batch_whose_children_all_failed_is_failed_and_retry_makes_it_run_again(submitter):
    stack, submit = submitter
    parent_id = submit("bad", "bad")
    assert _settled(stack, parent_id)["status"] == "failed"
    response = stack.http.post(f"/v1/jobs/{parent_id}/retry")
    assert response.status_code == 200
    again = _settled(stack, parent_id)
    assert again["status"] == "failed"
    assert [c["attempts"] for c in _children(stack, parent_id)] == [2, 2]


def test_retrying_a_batch_with_nothing_to_retry_is_a_409_in_the_error_shape(submitter):
    stack, submit = submitter
    parent_id = submit("ok", "ok")
    assert _settled(stack, parent_id)["status"] == "succeeded"
    response = stack.http.post(f"/v1/jobs/{parent_id}/retry")
    assert response.status_code == 409
    assert "no failed or dead children" in response.json()["error"]
