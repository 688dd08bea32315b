"""Completion webhooks reach a real local HTTP server, and retry when it answers 500."""

from __future__ import annotations

import pytest
from hook_receiver import HookReceiver
from stack_support import wait_until


@pytest.fixture()
def receiver_factory():
    made: list[HookReceiver] = []

    def make(failures: int = 0) -> HookReceiver:
        """A receiver that answers 500 to its first ``failures`` POSTs, then 200."""
        made.append(HookReceiver(lambda n: 500 if n < failures else 200))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_the_callback_url_receives_the_job_summary_after_retrying_a_500(stack,
                                                                       receiver_factory):
    receiver = receiver_factory(failures=1)
    job_id = stack.submit("/v1/diag", {"mode": "ok", "callback_url": receiver.url})["job_id"]
    stack.wait_status(job_id, "succeeded")
    wait_until(lambda: len(receiver.calls) == 2, 30, what="the webhook to be retried")
    first_call, second_call = receiver.calls
    assert (first_call.status, second_call.status) == (500, 200)
    first, second = first_call.json(), second_call.json()
    assert second["id"] == job_id and second["status"] == "succeeded"
    assert second["result_url"] == f"/v1/jobs/{job_id}/result"
    assert first == second


def test_a_failed_job_reports_its_error_to_the_callback(stack, receiver_factory):
    receiver = receiver_factory()
    job_id = stack.submit("/v1/diag", {"mode": "bad", "callback_url": receiver.url})["job_id"]
    stack.wait_status(job_id, "failed")
    wait_until(lambda: receiver.calls, 30, what="the webhook")
    body = receiver.calls[0].json()
    assert body["status"] == "failed" and body["error"]["type"] == "bad_input"


def test_a_webhook_that_never_succeeds_is_dead_lettered_in_the_notify_queue(stack,
                                                                           receiver_factory):
    receiver = receiver_factory(failures=10**6)
    job_id = stack.submit("/v1/diag", {"mode": "ok", "callback_url": receiver.url})["job_id"]
    stack.wait_status(job_id, "succeeded")
    wait_until(lambda: stack.http.get("/v1/queues/notify/dead").json(), 60,
               what="the webhook to be dead-lettered")
    assert len(receiver.calls) == 4  # first try + REPERTORY_NOTIFY__MAX_RETRIES=3


def test_a_callback_url_that_is_not_http_is_refused_with_422(stack):
    response = stack.http.post("/v1/diag", json={"callback_url": "ftp://example.com/x"})
    assert response.status_code == 422
    assert "callback_url" in response.json()["error"]


def test_cancelling_a_queued_job_notifies_its_callback(stack, receiver_factory):
    receiver = receiver_factory()
    job_id = stack.submit("/v1/diag", {"mode": "ok", "delay_ms": 60_000,
                                       "callback_url": receiver.url})["job_id"]
    assert stack.http.post(f"/v1/jobs/{job_id}/cancel").json()["status"] == "cancelled"
    wait_until(lambda: receiver.calls, 30, what="the webhook")
    body = receiver.calls[0].json()
    assert body["status"] == "cancelled" and body["id"] == job_id
