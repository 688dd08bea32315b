"""HTTP jobs end to end: the API, a real worker of the network-bound pool, a real local server.

Loopback is internal: the stack allows only 127.0.0.1/32 (``http.allowed_networks``); a second
server on 127.0.0.2 stands for an internal target that is not allowed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from http_site import HttpSite
from stack_support import wait_until


@pytest.fixture(scope="module")
def site():
    with HttpSite("127.0.0.1") as server:
        yield server


@pytest.fixture(scope="module")
def internal_site():
    with HttpSite("127.0.0.2") as server:
        yield server


@pytest.fixture(scope="module")
def http_stack(redis_url, tmp_path_factory):
    from stack_support import Stack

    s = Stack(redis_url, tmp_path_factory.mktemp("http"),
              REPERTORY_HTTP__ALLOWED_NETWORKS='["127.0.0.1/32"]',
              REPERTORY_HTTP__MIN_BACKOFF_MS="200", REPERTORY_HTTP__MAX_BACKOFF_MS="400",
              REPERTORY_SCRAPE__EXTRACT_WORKERS="1")
    try:
        s.start_api()
        s.start_pool("scrape", processes=1, threads=2)
        yield s
    finally:
        s.close()


def _run(stack, body: dict, statuses=("succeeded", "failed", "dead"), timeout=60) -> dict:
    job = stack.submit("/v1/http", body)
    return stack.wait_status(job["job_id"], set(statuses), timeout)


def _attempts(stack, job_id: str) -> list[dict]:
    return stack.http.get(f"/v1/http/{job_id}/attempts").json()


def test_a_call_succeeds_with_status_latency_headers_and_body(http_stack, site) -> None:
    job = _run(http_stack, {"url": site.url("/ok"), "method": "GET"})
    assert job["status"] == "succeeded" and job["kind"] == "http"
    result = http_stack.http.get(f"/v1/jobs/{job['id']}/result").json()["result"]
    assert result["status_code"] == 200 and result["latency_ms"] > 0
    assert result["headers"]["x-site"] == "ok" and json.loads(result["body"]) == {"ok": True}
    assert [a["status_code"] for a in result["attempts"]] == [200]


def test_a_503_is_retried_with_backoff_until_it_succeeds(http_stack, site) -> None:
    job = _run(http_stack, {"url": site.url("/flaky/a503?fail=2"), "max_retries": 3})
    assert job["status"] == "succeeded" and job["attempts"] == 3
    assert [a.get("status_code") for a in _attempts(http_stack, job["id"])] == [503, 503, 200]
    assert len(site.seen("/flaky/a503")) == 3


def test_a_timeout_is_retried(http_stack, site) -> None:
    job = _run(http_stack, {"url": site.url("/slowfirst/t1?delay=5&times=1"), "timeout_s": 1,
                            "max_retries": 2})
    assert job["status"] == "succeeded" and job["attempts"] == 2
    first, second = _attempts(http_stack, job["id"])
    assert first["error_type"] == "timeout" and second["status_code"] == 200


def test_a_404_fails_at_once_and_is_not_retried(http_stack, site) -> None:
    job = _run(http_stack, {"url": site.url("/status/404"), "max_retries": 3})
    assert job["status"] == "failed" and job["attempts"] == 1
    assert job["error"]["type"] == "http_404" and "404" in job["error"]["message"]
    assert len(site.seen("/status/404")) == 1


def test_retry_after_is_honoured_over_the_backoff(http_stack, site) -> None:
    job = _run(http_stack, {"url": site.url("/flaky/ra?fail=1&code=429&retry_after=2"),
                            "max_retries": 2})
    assert job["status"] == "succeeded"
    first, second = site.seen("/flaky/ra")
    assert second.at - first.at >= 2.0  # the backoff alone would be 0.2-0.4 s
    assert _attempts(http_stack, job["id"])[0]["retry_in_ms"] == 2000


def test_retries_spent_the_job_is_dead_lettered(http_stack, site) -> None:
    job = _run(http_stack, {"url": site.url("/status/500"), "max_retries": 1})
    assert job["status"] == "dead" and job["attempts"] == 2
    dead = http_stack.http.get("/v1/queues/http/dead").json()
    assert job["id"] in json.dumps(dead)


def test_a_call_in_flight_stops_when_its_job_is_cancelled(http_stack, site) -> None:
    job = http_stack.submit("/v1/http", {"url": site.url("/slow?delay=30&c=1"),
                                         "timeout_s": 60})
    wait_until(lambda: site.seen("/slow") and http_stack.job(job["job_id"])["status"]
               == "running", 30, what="the call to be in flight")
    assert http_stack.http.post(f"/v1/jobs/{job['job_id']}/cancel").status_code == 200
    done = http_stack.wait_status(job["job_id"], {"cancelled", "succeeded", "failed"}, 20)
    assert done["status"] == "cancelled"


def test_an_internal_address_is_refused_unless_allowed(http_stack, internal_site) -> None:
    refused = http_stack.http.post("/v1/http", json={"url": internal_site.url("/ok")})
    assert refused.status_code == 422 and "internal address" in refused.json()["error"]
    assert refused.json()["type"] == "blocked"
    assert internal_site.seen("/") == []


def test_bad_requests_are_refused_with_the_field_named(http_stack, site) -> None:
    cases = [({"url": site.url("/ok"), "timeout_s": 91}, "timeout_s"),
             ({"url": "ftp://example.com/x"}, "http"),
             ({"url": site.url("/ok"), "delay_ms": 5, "run_at": "2030-01-01T00:00:00Z"},
              "not both"),
             ({"url": site.url("/ok"), "headers": {"Host": "x"}}, "Host")]
    for body, needle in cases:
        answer = http_stack.http.post("/v1/http", json=body)
        assert answer.status_code == 422 and needle in answer.text, answer.text


def test_many_calls_wait_at_once_on_few_worker_threads(http_stack, site) -> None:
    """100 calls held open by the server at once, on a worker with 2 threads; the worker
    process has far fewer threads than calls in flight."""
    jobs = [http_stack.submit("/v1/http", {"url": site.url(f"/hold/{i}"), "timeout_s": 90,
                                           "max_retries": 0})["job_id"] for i in range(100)]
    try:
        wait_until(lambda: site.held == 100, 60, what="100 calls in flight")
        (worker,) = http_stack.workers("scrape")
        threads = int(next(line.split()[1] for line in
                           Path(f"/proc/{worker['pid']}/status").read_text().splitlines()
                           if line.startswith("Threads:")))
        assert threads < 60, threads
    finally:
        site.release()
    for job_id in jobs:
        assert http_stack.wait_status(job_id, {"succeeded", "failed", "dead"})["status"] == \
            "succeeded"


def test_a_call_in_flight_at_shutdown_is_put_back_and_runs_again(http_stack) -> None:
    """The worker stops while a call waits: past its grace the call is cancelled and the
    message put back (job ``queued``, error ``shutdown``); the next worker runs it."""
    with HttpSite("127.0.0.1") as held:
        job = http_stack.submit("/v1/http", {"url": held.url("/hold/s"), "timeout_s": 90})
        wait_until(lambda: held.held == 1, 30, what="the call to be in flight")
        http_stack.stop("pool-scrape")
        record = http_stack.job(job["job_id"])
        assert record["status"] == "queued" and record["error"]["type"] == "shutdown", record
        held.release()
        http_stack.start_pool("scrape", processes=1, threads=2)
        done = http_stack.wait_status(job["job_id"], {"succeeded", "failed", "dead"}, 60)
        assert done["status"] == "succeeded" and done["attempts"] == 2
        assert len(held.seen("/hold/s")) == 2
