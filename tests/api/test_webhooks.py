"""Completion webhooks reach a real local HTTP server, and retry when it answers 500."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from stack_support import wait_until


class Receiver:
    """A webhook receiver that fails the first ``failures`` POSTs with 500."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[int, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                code = 500 if len(receiver.calls) < receiver.failures else 200
                receiver.calls.append((code, body))
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture()
def receiver_factory():
    made: list[Receiver] = []

    def make(failures: int = 0) -> Receiver:
        made.append(Receiver(failures))
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
    (first_code, first), (second_code, second) = receiver.calls
    assert (first_code, second_code) == (500, 200)
    assert second["id"] == job_id and second["status"] == "succeeded"
    assert second["result_url"] == f"/v1/jobs/{job_id}/result"
    assert first == second


def test_a_failed_job_reports_its_error_to_the_callback(stack, receiver_factory):
    receiver = receiver_factory()
    job_id = stack.submit("/v1/diag", {"mode": "bad", "callback_url": receiver.url})["job_id"]
    stack.wait_status(job_id, "failed")
    wait_until(lambda: receiver.calls, 30, what="the webhook")
    body = receiver.calls[0][1]
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
    assert receiver.calls[0][1]["status"] == "cancelled" and receiver.calls[0][1]["id"] == job_id
