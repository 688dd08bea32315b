"""The dashboard's pages and the data behind them, through HTTP against a live stack."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from hook_receiver import HookReceiver
from stack_support import Stack, wait_until

from pools.jobs import JobStore

DATA = Path(__file__).resolve().parents[1] / "data" / "shift_scheduling"


def _ids(html: str) -> list[str]:
    return re.findall(r'href="/dashboard/jobs/([0-9a-f]{32})"', html)


def test_the_job_page_shows_each_attempt_with_its_worker_host_pid_and_traceback(stack):
    job_id = stack.submit("/v1/diag", {"mode": "flaky", "failures": 2})["job_id"]
    stack.wait_status(job_id, "succeeded", timeout=60)
    (worker,) = stack.workers("cpu")
    import redis

    events = JobStore(redis.Redis.from_url(stack.redis_url)).events(job_id)
    starts = [e for e in events if e["event"] == "start"]
    assert [e["attempt"] for e in starts] == [1, 2, 3]
    assert {e["worker"] for e in starts} == {f"{worker['host']}:{worker['pid']}"}
    failures = [e for e in events if e["event"] == "retry_later"]
    assert [e["error_message"] for e in failures] == ["diag transient failure on run 1",
                                                     "diag transient failure on run 2"]
    assert all("TransientError" in e["traceback"] for e in failures)

    page = stack.http.get(f"/dashboard/jobs/{job_id}")
    assert page.status_code == 200
    html = unescape(page.text)
    assert html.count(f'<td class="num">{worker["pid"]}</td>') >= 6  # timeline + attempts
    assert "diag transient failure on run 2" in html and "TransientError" in html
    assert 'id="job-status">succeeded<' in html
    assert '"runs": 3' in html  # the result, inline


def test_an_unknown_job_page_is_a_404_page_that_says_so(stack):
    page = stack.http.get("/dashboard/jobs/feedface")
    assert page.status_code == 404 and "no job with id 'feedface'" in unescape(page.text)


def test_a_finished_optimal_solve_shows_its_final_gap_not_the_last_tick(stack):
    response = stack.http.post("/v1/solve", content=(DATA / "Instance1.txt").read_bytes(),
                               params={"time_limit_s": 60},
                               headers={"content-type": "text/plain"})
    job_id = response.json()["job_id"]
    done = stack.wait_status(job_id, "succeeded", timeout=120)
    result = stack.http.get(f"/v1/jobs/{job_id}/result").json()["result"]
    assert result["status"] == "OPTIMAL" and result["gap"] == 0
    progress = done["progress"]
    assert (progress["objective"], progress["best_bound"], progress["gap"]) == (
        result["objective"], result["best_bound"], 0)
    assert progress["final"] is True and progress["status"] == "OPTIMAL"
    html = stack.http.get(f"/dashboard/jobs/{job_id}").text
    assert '<dd class="gap">0.0 %</dd>' in html and "(final)" in html
    row = stack.http.get("/dashboard/jobs", params={"kind": "solve"}).text
    assert "objective 607, gap 0.0 %" in row


def test_dead_letters_are_listed_with_their_error_requeued_one_by_one_and_purged(stack):
    flaky = stack.submit("/v1/diag", {"mode": "flaky", "failures": 4})["job_id"]
    doomed = stack.submit("/v1/diag", {"mode": "fail"})["job_id"]
    for job_id in (flaky, doomed):
        stack.wait_status(job_id, "dead", timeout=60)
    letters = {d["job_id"]: d for d in stack.http.get("/v1/queues/diag/dead").json()}
    assert letters[flaky]["error"] == {"type": "transient",
                                       "message": "diag transient failure on run 4"}
    assert "run 4" in letters[flaky]["traceback"]  # the last attempt's, not the one before

    requeued = stack.http.post(f"/v1/queues/diag/dead/{flaky}/requeue")
    assert requeued.json() == {"requeued": [flaky]}
    again = stack.http.post(f"/v1/queues/diag/dead/{flaky}/requeue")
    assert again.status_code == 404
    assert again.json() == {"error": f"no dead letter {flaky} in queue 'diag' "
                                     "(requeued or purged already?)"}
    assert stack.wait_status(flaky, "succeeded", timeout=60)["attempts"] == 5

    purged = stack.http.delete(f"/v1/queues/diag/dead/{doomed}")
    assert purged.json() == {"purged": [doomed]}
    assert doomed not in [d["job_id"] for d in stack.http.get("/v1/queues/diag/dead").json()]
    assert stack.job(doomed)["status"] == "dead"  # its record stays; retry still runs it
    assert stack.http.post(f"/v1/jobs/{doomed}/retry").json()["status"] == "queued"
    stack.wait_status(doomed, "dead", timeout=60)
    assert stack.http.post("/v1/queues/diag/dead/purge", json={"all": True}).json() == {
        "purged": [doomed]}
    assert stack.http.post("/v1/queues/diag/dead/purge", json={}).status_code == 422
    assert stack.http.post("/v1/queues/nope/dead/purge", json={"all": True}).status_code == 404

    page = stack.http.get("/dashboard/dead/diag").text
    assert "No dead letters in diag." in page


def test_the_jobs_list_filters_searches_and_pages_with_a_cursor(stack):
    ids = [stack.submit("/v1/diag", {"mode": "ok"})["job_id"] for _ in range(3)]
    for job_id in ids:
        stack.wait_status(job_id, "succeeded")
    first = stack.http.get("/dashboard/jobs", params={"kind": "diag", "status": "succeeded",
                                                      "last": "15m", "limit": 2}).text
    assert _ids(first) == ids[::-1][:2]
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "cursor=" in older and "kind=diag" in older
    assert _ids(stack.http.get(older).text)[0] == ids[0]

    future = stack.http.get("/dashboard/jobs", params={"start": "2999-01-01T00:00"}).text
    assert _ids(future) == [] and "No jobs match." in future
    bad = stack.http.get("/dashboard/jobs", params={"status": "sleeping", "start": "soon"})
    assert bad.status_code == 200
    assert "unknown status 'sleeping'" in unescape(bad.text) and "is not a date" in bad.text

    found = stack.http.get("/dashboard/jobs", params={"q": ids[1][:10]}).text
    assert _ids(found) == [ids[1]]
    exact = stack.http.get("/dashboard/jobs", params={"q": ids[2]})
    assert exact.status_code == 303 and exact.headers["location"] == f"/dashboard/jobs/{ids[2]}"
    assert "no job id starts with" in stack.http.get("/dashboard/jobs",
                                                     params={"q": "zz"}).text


def test_the_overview_and_workers_pages_show_live_numbers(stack):
    job_id = stack.submit("/v1/diag", {"mode": "sleep", "seconds": 3})["job_id"]
    stack.wait_status(job_id, "running")
    (worker,) = stack.workers("cpu")
    workers = stack.http.get("/dashboard/workers").text
    assert f'<td class="num">{worker["pid"]}</td>' in workers
    assert f'href="/dashboard/jobs/{job_id}">diag {job_id[:8]}</a>' in workers  # running now
    overview = stack.http.get("/dashboard").text
    assert 'aria-label="jobs finished per minute, by outcome"' in overview
    cpu_row = re.search(r'<td title="[^"]*">cpu</td>\s*<td class="num"><a [^>]+>(\d+)</a>',
                        overview)
    assert cpu_row and cpu_row.group(1) == "1"
    stack.http.post(f"/v1/jobs/{job_id}/cancel")


def test_webhook_deliveries_are_listed_on_the_job_page(stack):
    with HookReceiver(lambda n: 500 if n == 0 else 204) as receiver:
        job_id = stack.submit("/v1/diag", {"mode": "ok", "callback_url": receiver.url})["job_id"]
        stack.wait_status(job_id, "succeeded")
        html = wait_until(lambda: (t := stack.http.get(f"/dashboard/jobs/{job_id}").text)
                          and "delivered (204)" in t and t, 30, what="the second delivery")
    assert f"webhook {receiver.url} answered 500" in html
    section = html[html.index('id="webhooks"'):]
    assert section.index("answered 500") < section.index("delivered (204)")


@pytest.fixture(scope="module")
def locked(redis_url, tmp_path_factory):
    s = Stack(redis_url, tmp_path_factory.mktemp("locked"), REPERTORY_API__TOKEN="t0ken")
    try:
        s.start_api()
        yield s
    finally:
        s.close()


def test_with_a_token_the_dashboard_asks_for_it_and_its_cookie_opens_v1(locked):
    page = locked.http.get("/dashboard/workers")
    assert page.status_code == 200 and 'name="token"' in page.text
    assert "<h1>Workers" not in page.text  # nothing shown before signing in
    wrong = locked.http.post("/dashboard/login", data={"token": "nope",
                                                       "next": "/dashboard/workers"})
    assert wrong.status_code == 401 and "not the API token" in wrong.text
    right = locked.http.post("/dashboard/login", data={"token": "t0ken",
                                                       "next": "https://evil.example/"})
    assert right.status_code == 303 and right.headers["location"] == "/dashboard"
    cookie = right.cookies["repertory_token"]
    assert "httponly" in right.headers["set-cookie"].lower()
    assert "samesite=strict" in right.headers["set-cookie"].lower()
    locked.http.cookies.clear()  # the client kept it: send it by hand from here on
    signed = {"cookie": f"repertory_token={cookie}"}
    assert "<h1>Workers" in locked.http.get("/dashboard/workers", headers=signed).text
    assert locked.http.get("/v1/jobs", headers=signed).status_code == 200
    assert locked.http.get("/v1/jobs").status_code == 401


def test_a_batch_page_lists_its_children_with_their_counts(stack):
    import redis

    store = JobStore(redis.Redis.from_url(stack.redis_url))
    store.create("b" * 32, kind="scrape-batch", queue="scrape", actor="scrape_domain",
                 children_total=2, summary={"domains": 2})
    for n, summary in ((1, {"domain": "one.example"}), (2, {"domain": "two.example"})):
        store.create(f"{n}" * 32, kind="scrape", queue="scrape", actor="scrape_domain",
                     parent_id="b" * 32, summary=summary)
    store.transition("1" * 32, "start", worker="h:1")
    store.transition("1" * 32, "succeed", finished_at=1.0)
    store.transition("2" * 32, "start", worker="h:1")
    store.transition("2" * 32, "fail", error_type="blocked", error_message="robots.txt says no")
    html = unescape(stack.http.get(f"/dashboard/jobs/{'b' * 32}").text)
    children = html[html.index('id="children"'):]
    assert "2/2 done" in children and "1 succeeded" in children and "1 failed" in children
    assert "domain: one.example" in children and "blocked: robots.txt says no" in children
    assert 'data-action="POST /v1/jobs/' + "b" * 32 + '/retry"' in html  # a failed child
    timeline = html[html.index('id="timeline"'):html.index('id="children"')]
    assert "settle_ok" in timeline and "open" in timeline
