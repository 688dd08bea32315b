"""User schedules through the API: created, listed with their next run, run now, paused,
resumed, deleted; bad input is a 4xx naming the field. Against a live API and worker pool; the
ticks themselves are sent by a real `repertory scheduler`."""

from __future__ import annotations

import time

import pytest
from stack_support import wait_until

DIAG = {"kind": "diag", "body": {"mode": "ok"}}


def create(stack, **fields):
    return stack.http.post("/v1/schedules", json={"job": DIAG} | fields)


def one(stack, name: str, runs: int = 20) -> dict:
    response = stack.http.get(f"/v1/schedules/{name}", params={"runs": runs})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture()
def cleanup(stack):
    yield
    for item in stack.http.get("/v1/schedules").json()["schedules"]:
        if item["origin"] == "user":
            stack.http.delete(f"/v1/schedules/{item['name']}")
        elif item["paused"]:
            stack.http.patch(f"/v1/schedules/{item['name']}", json={"paused": False})


def test_a_user_schedule_is_created_listed_with_its_next_run_run_now_paused_and_deleted(
        stack, cleanup):
    before = time.time()
    response = create(stack, name="hourly-diag", every_s=3600, missed="run_once")
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["origin"] == "user" and created["paused"] is False
    assert before + 3600 - 5 <= created["next_run"] <= time.time() + 3600

    listed = stack.http.get("/v1/schedules").json()
    by_name = {s["name"]: s for s in listed["schedules"]}
    assert {"cleanup", "reindex", "rescrape"} <= {n for n, s in by_name.items()
                                                  if s["origin"] == "code"}
    assert by_name["hourly-diag"]["next_run"] == pytest.approx(created["next_run"], abs=0.01)
    assert by_name["hourly-diag"]["job"] == DIAG

    ran = stack.http.post("/v1/schedules/hourly-diag/run")
    assert ran.status_code == 202, ran.text
    job_id = ran.json()["job_id"]
    stack.wait_status(job_id, "succeeded")
    (run,) = one(stack, "hourly-diag")["last_runs"]
    assert (run["trigger"], run["job_id"], run["outcome"]) == ("manual", job_id, "succeeded")

    paused = stack.http.patch("/v1/schedules/hourly-diag", json={"paused": True}).json()
    assert paused["paused"] is True and paused["next_run"] is None
    resumed = stack.http.patch("/v1/schedules/hourly-diag", json={"paused": False}).json()
    assert resumed["paused"] is False and resumed["next_run"] > time.time()

    assert stack.http.delete("/v1/schedules/hourly-diag").status_code == 204
    assert stack.http.get("/v1/schedules/hourly-diag").status_code == 404
    assert stack.http.delete("/v1/schedules/hourly-diag").status_code == 404
    names = {s["name"] for s in stack.http.get("/v1/schedules").json()["schedules"]}
    assert "hourly-diag" not in names


def test_a_cron_schedule_next_run_is_the_next_minute_in_its_time_zone(stack, cleanup):
    response = create(stack, name="every-minute", cron="* * * * *", timezone="Asia/Kolkata")
    assert response.status_code == 201, response.text
    next_run = response.json()["next_run"]
    assert time.time() - 1 < next_run <= time.time() + 61
    assert next_run % 60 == 0  # UTC+5:30 still has whole minutes
    half_hourly = create(stack, name="kolkata-hour", cron="0 * * * *",
                         timezone="Asia/Kolkata").json()
    assert half_hourly["next_run"] % 3600 == 1800  # the hour in Kolkata is :30 in UTC


def test_a_scheduler_sends_the_ticks_and_a_paused_schedule_sends_none(stack, cleanup):
    assert create(stack, name="ticking", every_s=1).status_code == 201
    stack.start_scheduler("api-scheduler", REPERTORY_SCHEDULES__POLL_S="0.2")
    try:
        first = wait_until(lambda: [r for r in one(stack, "ticking")["last_runs"]
                                    if r["trigger"] == "tick" and r["outcome"] == "succeeded"],
                           90, 0.2, "a tick's job to succeed")
        assert first[0]["holder"]
        stack.http.patch("/v1/schedules/ticking", json={"paused": True})
        paused_at = time.time()
        count = len(one(stack, "ticking", 100)["last_runs"])
        wait_until(lambda: time.time() > paused_at + 3, 10, what="three periods")
        assert len(one(stack, "ticking", 100)["last_runs"]) <= count + 1  # one in flight
        stack.http.patch("/v1/schedules/ticking", json={"paused": False})
        resumed_at = time.time()
        wait_until(lambda: any(r["planned"] > resumed_at
                               for r in one(stack, "ticking", 100)["last_runs"]),
                   90, 0.2, "ticks after the resume")
        ticks = [r for r in one(stack, "ticking", 100)["last_runs"] if r["trigger"] == "tick"]
        assert not [r for r in ticks if paused_at + 1 < r["planned"] < resumed_at - 1]
    finally:
        stack.stop("api-scheduler")


def test_a_code_schedule_runs_now_and_pauses_but_cannot_be_deleted(stack, cleanup):
    response = stack.http.delete("/v1/schedules/cleanup")
    assert response.status_code == 409
    assert "fixed in code" in response.json()["error"]
    assert stack.http.patch("/v1/schedules/cleanup", json={"paused": True}).json()["paused"]
    ran = stack.http.post("/v1/schedules/cleanup/run")
    assert ran.status_code == 202, ran.text
    record = stack.wait_status(ran.json()["job_id"], "succeeded")
    assert record["kind"] == "cleanup"
    assert create(stack, name="cleanup", every_s=60).status_code == 409


@pytest.mark.parametrize(("fields", "field"), [
    ({"cron": "every day"}, "body.cron"),
    ({"cron": "0 3 * * *", "timezone": "Atlantis/Capital"}, "body.timezone"),
    ({"every_s": 0}, "body.every_s"),
    ({"cron": "0 3 * * *", "every_s": 60}, "body"),
    ({"every_s": 60, "missed": "sometimes"}, "body.missed"),
    ({"every_s": 60, "job": {"kind": "teleport", "body": {}}}, "job.kind"),
    ({"every_s": 60, "job": {"kind": "diag", "body": {"mode": "explode"}}}, "job.body.mode"),
    ({"every_s": 60, "job": {"kind": "scrape", "body": {"domains": []}}}, "job.body.domains"),
    ({"every_s": 60, "job": {"kind": "solve", "body": {"problem": {"name": "x"}}}},
     "job.body.problem.horizon"),
])
def test_a_bad_schedule_is_a_422_naming_the_field(stack, cleanup, fields, field):
    response = create(stack, name="bad-one", **fields)
    assert response.status_code == 422, response.text
    body = response.json()
    assert field in body["error"], body
    assert any(d["field"].startswith(field) for d in body.get("details", [])), body
    assert stack.http.get("/v1/schedules/bad-one").status_code == 404


def test_a_taken_name_is_a_409_and_an_unknown_schedule_a_404(stack, cleanup):
    assert create(stack, name="twice", every_s=60).status_code == 201
    again = create(stack, name="twice", every_s=120)
    assert again.status_code == 409 and "exists" in again.json()["error"]
    for method, path in (("POST", "/v1/schedules/nope/run"), ("GET", "/v1/schedules/nope"),
                         ("DELETE", "/v1/schedules/nope")):
        assert stack.http.request(method, path).status_code == 404
    assert stack.http.patch("/v1/schedules/nope", json={"paused": True}).status_code == 404


def test_every_kind_the_api_accepts_is_checked_with_its_own_schema(stack, cleanup):
    from api.job_kinds import available

    kinds = available()
    assert {"solve", "scrape", "diag"} <= set(kinds)
    if "http" in kinds:  # added with HTTP jobs: the same registry, one line
        response = create(stack, name="bad-http", every_s=60,
                          job={"kind": "http", "body": {"url": "https://example.com",
                                                         "timeout_s": 600}})
        assert response.status_code == 422 and "job.body.timeout_s" in response.json()["error"]
    response = create(stack, name="bad-kind", every_s=60, job={"kind": "nope", "body": {}})
    assert all(kind in response.json()["error"] for kind in kinds)
