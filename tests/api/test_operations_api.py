"""Operational routes and bad input, through HTTP against a live stack."""

from __future__ import annotations

from stack_support import wait_until


def test_an_unknown_job_is_a_404_with_a_message(stack):
    for path in ("/v1/jobs/nope", "/v1/jobs/nope/result"):
        response = stack.http.get(path)
        assert response.status_code == 404
        assert response.json() == {"error": "no job with id 'nope'"}
    assert stack.http.post("/v1/jobs/nope/cancel").status_code == 404
    assert stack.http.post("/v1/jobs/nope/retry").status_code == 404


def test_bad_input_is_a_422_that_names_the_field(stack):
    response = stack.http.post("/v1/diag", json={"mode": "explode", "seconds": -1})
    assert response.status_code == 422
    body = response.json()
    fields = {d["field"] for d in body["details"]}
    assert fields == {"body.mode", "body.seconds"}
    assert "body.mode" in body["error"]
    assert stack.http.post("/v1/diag", content=b"{not json",
                           headers={"content-type": "application/json"}).status_code == 422
    assert stack.http.get("/v1/jobs", params={"status": "sleeping"}).status_code == 422
    assert stack.http.get("/v1/jobs", params={"limit": 0}).status_code == 422


def test_unknown_queues_are_404_and_a_requeue_needs_a_target(stack):
    assert stack.http.get("/v1/queues/nope/dead").status_code == 404
    response = stack.http.post("/v1/queues/diag/dead/requeue", json={})
    assert response.status_code == 422 and "message_ids" in response.json()["error"]


def test_workers_report_pool_host_pid_and_queues(stack):
    (worker,) = stack.workers("cpu")
    assert worker["pid"] > 0 and worker["host"]
    assert {"diag", "notify"} <= set(worker["queues"])
    assert worker["device"] == "cpu"


def test_readyz_reports_workers_per_pool_and_stays_ready_with_a_pool_at_zero(stack):
    body = stack.http.get("/readyz").json()
    assert body["ready"] is True and body["broker"] and body["job_store"]
    assert body["workers_by_pool"]["cpu"] == 1 and body["workers_by_pool"]["gpu"] == 0


def test_metrics_count_jobs_by_kind_and_status_and_expose_durations(stack):
    job_id = stack.submit("/v1/diag", {"mode": "ok"})["job_id"]
    stack.wait_status(job_id, "succeeded")
    text = wait_until(lambda: (t := stack.http.get("/metrics").text)
                      and 'repertory_job_duration_seconds_count{kind="diag",status="succeeded"}'
                      in t and t, 10, what="metrics")
    line = next(row for row in text.splitlines()
                if row.startswith('repertory_jobs{kind="diag",status="succeeded"}'))
    assert float(line.split()[-1]) >= 1
    assert 'repertory_queue_messages{queue="diag",state="ready"}' in text


def _has_example(node, schemas, depth=0) -> bool:
    if depth > 14:
        return False
    if isinstance(node, dict):
        if "example" in node or "examples" in node:
            return True
        if "$ref" in node:
            return _has_example(schemas[node["$ref"].split("/")[-1]], schemas, depth + 1)
        return any(_has_example(v, schemas, depth + 1) for v in node.values())
    if isinstance(node, list):
        return any(_has_example(v, schemas, depth + 1) for v in node)
    return False


def test_every_route_documents_an_example(stack):
    spec = stack.http.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    missing = [f"{method.upper()} {path}" for path, ops in spec["paths"].items()
               for method, op in ops.items()
               if not _has_example([op.get("requestBody"), op.get("parameters"),
                                    op.get("responses")], schemas)]
    assert missing == []
    assert len(spec["paths"]) >= 20


def test_the_dashboard_page_is_served(stack):
    page = stack.http.get("/dashboard")
    assert page.status_code == 200 and "<title>repertory</title>" in page.text
    assert "/v1/queues" in page.text


def test_jobs_are_listed_newest_first_with_a_working_cursor(stack):
    ids = [stack.submit("/v1/diag", {"mode": "ok"})["job_id"] for _ in range(3)]
    page = stack.http.get("/v1/jobs", params={"kind": "diag", "limit": 2}).json()
    assert [j["id"] for j in page["items"]] == ids[::-1][:2]
    rest = stack.http.get("/v1/jobs", params={"kind": "diag", "limit": 2,
                                              "cursor": page["next_cursor"]}).json()
    assert rest["items"][0]["id"] == ids[0]


def test_search_without_a_gpu_or_index_worker_is_a_503_naming_the_pool(redis_url, tmp_path):
    from stack_support import Stack

    s = Stack(redis_url, tmp_path, REPERTORY_API__RPC_TIMEOUT_S="1")
    try:
        s.start_api()
        response = s.http.get("/v1/search", params={"q": "red shoe"})
        assert response.status_code == 503
        assert "'gpu' worker" in response.json()["error"]
    finally:
        s.close()
