"""A job's whole life through HTTP, a real broker and real worker processes."""

from __future__ import annotations

import time


def test_a_job_goes_queued_running_succeeded_and_its_result_is_served(stack):
    accepted = stack.submit("/v1/diag", {"mode": "sleep", "seconds": 1.5})
    assert accepted["status"] == "queued"
    job_id = accepted["job_id"]

    running = stack.wait_status(job_id, "running", timeout=30)
    assert running["attempts"] == 1 and running["started_at"] >= running["created_at"]
    done = stack.wait_status(job_id, "succeeded", timeout=30)
    assert done["finished_at"] >= done["started_at"] + 1.4
    assert done["progress"]["total"] == 1.5

    result = stack.http.get(f"/v1/jobs/{job_id}/result").json()
    assert result["result"]["mode"] == "sleep"
    assert result["result"]["runs"] == 1
    listed = stack.http.get("/v1/jobs", params={"kind": "diag", "status": "succeeded"}).json()
    assert job_id in [j["id"] for j in listed["items"]]


def test_a_transient_failure_retries_with_backoff_then_succeeds(stack):
    job_id = stack.submit("/v1/diag", {"mode": "flaky", "failures": 2})["job_id"]
    done = stack.wait_status(job_id, "succeeded", timeout=60)
    assert done["attempts"] == 3
    assert stack.http.get(f"/v1/jobs/{job_id}/result").json()["result"]["runs"] == 3


def test_a_job_that_keeps_failing_goes_dead_and_a_requeue_runs_it_again(stack):
    job_id = stack.submit("/v1/diag", {"mode": "fail"})["job_id"]
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = stack.job(job_id)["status"]
        seen.add(status)
        if status == "dead":
            break
        time.sleep(0.05)
    dead = stack.job(job_id)
    assert dead["status"] == "dead", dead
    assert "retrying" in seen
    assert dead["attempts"] == 4  # the first run and max_retries=3 retries of the diag actor
    assert dead["error"]["type"] == "transient"

    letters = stack.http.get("/v1/queues/diag/dead").json()
    assert [d["job_id"] for d in letters] == [job_id]
    stats = {q["queue"]: q for q in stack.http.get("/v1/queues").json()}
    assert stats["diag"]["dead"] == 1

    requeued = stack.http.post("/v1/queues/diag/dead/requeue", json={"all": True}).json()
    assert requeued["requeued"] == [job_id]
    assert stack.http.get("/v1/queues/diag/dead").json() == []
    stack.wait_status(job_id, "dead", timeout=60)
    assert stack.job(job_id)["attempts"] == 8, "the requeued job ran its full retry budget again"


def test_a_permanent_error_fails_at_once_without_retry_or_dead_letter(stack):
    job_id = stack.submit("/v1/diag", {"mode": "bad"})["job_id"]
    failed = stack.wait_status(job_id, "failed", timeout=30)
    assert failed["attempts"] == 1
    assert failed["error"] == {"type": "bad_input",
                               "message": "diag was asked to fail permanently (mode='bad')"}
    dead = [d["job_id"] for d in stack.http.get("/v1/queues/diag/dead").json()]
    assert job_id not in dead
    assert stack.http.get(f"/v1/jobs/{job_id}/result").status_code == 409


def test_retry_of_a_failed_job_runs_it_again_and_retry_of_a_running_job_is_refused(stack):
    job_id = stack.submit("/v1/diag", {"mode": "bad"})["job_id"]
    stack.wait_status(job_id, "failed", timeout=30)
    again = stack.http.post(f"/v1/jobs/{job_id}/retry")
    assert again.status_code == 200 and again.json()["status"] == "queued"
    assert stack.wait_status(job_id, "failed", timeout=30)["attempts"] == 2

    busy = stack.submit("/v1/diag", {"mode": "sleep", "seconds": 3})["job_id"]
    stack.wait_status(busy, "running", timeout=30)
    refused = stack.http.post(f"/v1/jobs/{busy}/retry")
    assert refused.status_code == 409
    assert "only failed or dead jobs" in refused.json()["error"]


def test_the_same_idempotency_key_returns_the_original_job(stack):
    headers = {"Idempotency-Key": "order-42"}
    first = stack.submit("/v1/diag", {"mode": "ok"}, headers)
    second = stack.submit("/v1/diag", {"mode": "ok"}, headers)
    other = stack.submit("/v1/diag", {"mode": "ok"}, {"Idempotency-Key": "order-43"})
    assert first["created"] is True and second["created"] is False
    assert second["job_id"] == first["job_id"]
    assert other["job_id"] != first["job_id"]
    stack.wait_status(first["job_id"], "succeeded")
    runs = stack.http.get(f"/v1/jobs/{first['job_id']}/result").json()["result"]["runs"]
    assert runs == 1


def test_a_cancelled_delayed_job_never_runs(stack):
    job_id = stack.submit("/v1/diag", {"mode": "ok", "delay_ms": 1500})["job_id"]
    assert stack.job(job_id)["eta"] is not None
    cancelled = stack.http.post(f"/v1/jobs/{job_id}/cancel").json()
    assert cancelled["status"] == "cancelled"
    control = stack.submit("/v1/diag", {"mode": "ok", "delay_ms": 1500})["job_id"]
    stack.wait_status(control, "succeeded", timeout=30)
    time.sleep(0.5)
    job = stack.job(job_id)
    assert job["status"] == "cancelled" and job["attempts"] == 0 and job["started_at"] is None
    assert stack.http.post(f"/v1/jobs/{job_id}/cancel").status_code == 409


def test_cancelling_a_running_job_stops_it(stack):
    job_id = stack.submit("/v1/diag", {"mode": "sleep", "seconds": 30})["job_id"]
    stack.wait_status(job_id, "running", timeout=30)
    stack.http.post(f"/v1/jobs/{job_id}/cancel")
    job = stack.wait_status(job_id, "cancelled", timeout=10)
    assert job["finished_at"] - job["started_at"] < 10


def test_an_expired_result_is_a_410_not_a_500(stack):
    import redis

    job_id = stack.submit("/v1/diag", {"mode": "ok"})["job_id"]
    stack.wait_status(job_id, "succeeded")
    client = redis.Redis.from_url(stack.redis_url)
    removed = sum(client.delete(k) for k in client.scan_iter(f"repertory-results:*{job_id}*"))
    assert removed == 1, "the result lives under the job id"
    response = stack.http.get(f"/v1/jobs/{job_id}/result")
    assert response.status_code == 410 and "expired" in response.json()["error"]
