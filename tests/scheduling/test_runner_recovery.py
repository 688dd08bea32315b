"""The scheduler loop in-process on a real Valkey: a run recorded but not submitted (its leader
lost Redis or died in between) is submitted by the next leader with the same idempotency key."""

from __future__ import annotations

import redis
from stack_support import wait_until

from config.settings import ScheduleSettings
from pools.scheduling.ledger import UNSENT_KEY, Ledger, decode_runs
from pools.scheduling.model import JobSpec, Schedule
from pools.scheduling.runner import Runner

SETTINGS = ScheduleSettings(leader_lease_s=0.5, poll_s=0.1, misfire_grace_s=60)
SCHEDULE = Schedule(name="every-second", every_s=1, job=JobSpec(kind="diag"), origin="code",
                    actor="diag", missed="run_once")


def test_a_run_claimed_but_not_submitted_is_submitted_by_the_next_leader_with_its_key(
        redis_client):
    def broken(schedule: Schedule, key: str) -> str:
        raise redis.ConnectionError("Redis went away mid-submit")

    first = Runner(redis_client, SETTINGS, {SCHEDULE.name: SCHEDULE}, broken, holder="first")
    wait_until(lambda: first._step_safely() is not None and redis_client.scard(UNSENT_KEY), 30, 0.1,
               "a tick to be recorded and left unsent")
    (claimed,) = decode_runs(Ledger(redis_client, 10).runs(SCHEDULE.name, 10))
    assert claimed["state"] == "claimed" and claimed["job_id"] is None

    submitted: list[str] = []

    def working(schedule: Schedule, key: str) -> str:
        submitted.append(key)
        return f"job-{len(submitted)}"

    # The first leader is gone (it never renews again); the next one takes over after the lease.
    second = Runner(redis_client, SETTINGS, {SCHEDULE.name: SCHEDULE}, working,
                    holder="second")
    wait_until(lambda: second._step_safely() is not None and claimed["key"] in submitted, 30, 0.1,
               "the next leader to submit the unsent run")
    runs = {r["id"]: r for r in decode_runs(Ledger(redis_client, 10).runs(SCHEDULE.name, 10))}
    recovered = runs[claimed["id"]]
    assert recovered["state"] == "sent" and recovered["recovered_by"] == "second"
    assert submitted.count(claimed["key"]) == 1
    assert not redis_client.sismember(UNSENT_KEY, f"{SCHEDULE.name}\t{claimed['id']}")
