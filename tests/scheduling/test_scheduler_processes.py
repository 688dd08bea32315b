"""Real `repertory scheduler` processes against a live API, worker pool and Valkey.

Periods are short (every 1 s) and every wait is for an event in the ledger, with generous
timeouts: nothing here times the machine.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import redis
from proc_support import linux_only
from stack_support import wait_until

#: A lease of 2 s and a poll of 0.2 s: failovers within seconds.
FAST = {"REPERTORY_SCHEDULES__LEADER_LEASE_S": "2", "REPERTORY_SCHEDULES__POLL_S": "0.2"}

pytestmark = linux_only


@pytest.fixture()
def create(stack):
    """Create every-second diag schedules; deleted after the test (the stack is shared)."""
    names: list[str] = []

    def make(stack, name: str, *, missed: str = "run_once") -> None:
        response = stack.http.post("/v1/schedules", json={
            "name": name, "every_s": 1, "missed": missed,
            "job": {"kind": "diag", "body": {"mode": "ok"}}})
        assert response.status_code == 201, response.text
        names.append(name)

    yield make
    for name in names:
        stack.http.delete(f"/v1/schedules/{name}")


def runs(stack, name: str) -> list[dict]:
    """The schedule's ledger, oldest first."""
    response = stack.http.get(f"/v1/schedules/{name}", params={"runs": 100})
    assert response.status_code == 200, response.text
    return response.json()["last_runs"][::-1]


def sent(stack, name: str) -> list[dict]:
    return [r for r in runs(stack, name) if r["job_id"]]


def leader(stack) -> dict | None:
    return stack.http.get("/v1/schedules").json()["leader"]


def pid_of(holder: str) -> int:
    return int(holder.split(":")[1])


def wait_sent(stack, name: str, count: int, timeout: float = 180, **where) -> list[dict]:
    def enough() -> list[dict] | None:
        found = [r for r in sent(stack, name) if all(r[k] == v for k, v in where.items())]
        return found if len(found) >= count else None

    return wait_until(enough, timeout, 0.2, f"{count} sent run(s) of {name} {where or ''}")


def assert_each_tick_once(stack, name: str) -> list[dict]:
    """No tick twice, no job twice, no tick missing between the first and the last, and every
    job ran exactly once."""
    ledger = [r for r in runs(stack, name) if r["trigger"] == "tick"]
    planned = [round(r["planned"] * 1000) for r in ledger]
    assert len(set(planned)) == len(planned), f"a tick was recorded twice: {planned}"
    assert planned == list(range(planned[0], planned[-1] + 1, 1000)), planned
    job_ids = [r["job_id"] for r in ledger]
    assert len(set(job_ids)) == len(job_ids)
    client = redis.Redis.from_url(stack.redis_url)
    for job_id in job_ids:
        stack.wait_status(job_id, "succeeded", timeout=180)
        assert client.llen(f"repertory:diag:{job_id}") == 1, f"job {job_id} ran twice"
    return ledger


def test_two_schedulers_send_each_tick_once(stack, create):
    create(stack, "two-schedulers")
    names = ["sched-a", "sched-b"]
    try:
        procs = [stack.start_scheduler(n, **FAST) for n in names]
        wait_sent(stack, "two-schedulers", 8)
        assert all(p.poll() is None for p in procs), "a scheduler exited"
        holder = leader(stack)["holder"]
        assert pid_of(holder) in {p.pid for p in procs}
    finally:
        for n in names:
            stack.stop(n)
    ledger = assert_each_tick_once(stack, "two-schedulers")
    assert len(ledger) >= 8
    assert {pid_of(r["holder"]) for r in ledger} <= {p.pid for p in procs}
    jobs = stack.http.get("/v1/jobs", params={"kind": "diag", "limit": 500}).json()["items"]
    ours = {r["job_id"] for r in ledger}
    assert ours <= {j["id"] for j in jobs}


def test_killing_the_leader_lets_the_standby_send_the_next_tick(stack, create):
    create(stack, "failover")
    procs = {n: stack.start_scheduler(n, **FAST) for n in ("fo-a", "fo-b")}
    try:
        wait_sent(stack, "failover", 3)
        first = leader(stack)
        victim = next(n for n, p in procs.items() if p.pid == pid_of(first["holder"]))
        survivor = next(n for n in procs if n != victim)
        last_before = sent(stack, "failover")[-1]["planned"]
        killed_at = time.time()
        stack.stop(victim, signal.SIGKILL)
        after = wait_until(lambda: [r for r in sent(stack, "failover")
                                    if pid_of(r["holder"]) == procs[survivor].pid
                                    and r["planned"] > last_before] or None,
                           120, 0.2, "the standby to send the next tick")
        took_over = leader(stack)
        assert pid_of(took_over["holder"]) == procs[survivor].pid
        assert took_over["token"] > first["token"]
        # A new tenure that began after the kill (the victim renewed until it died); how
        # soon after is the machine's speed, not a property of the lease.
        assert took_over["since"] > first["since"]
        assert took_over["since"] >= killed_at - 0.5  # 0.5 s: Redis and local clocks
        assert after[0]["planned"] > last_before
    finally:
        for n in procs:
            stack.stop(n)
    assert_each_tick_once(stack, "failover")  # the ticks of the gap too, each once


def test_a_paused_leader_that_wakes_after_a_takeover_does_not_send_again(stack, create):
    create(stack, "paused-leader")
    procs = {n: stack.start_scheduler(n, **FAST) for n in ("pl-a", "pl-b")}
    try:
        wait_sent(stack, "paused-leader", 2)
        first = leader(stack)
        frozen = next(n for n, p in procs.items() if p.pid == pid_of(first["holder"]))
        other = procs[next(n for n in procs if n != frozen)]
        os.killpg(procs[frozen].pid, signal.SIGSTOP)
        try:
            wait_until(lambda: any(pid_of(r["holder"]) == other.pid
                                   for r in sent(stack, "paused-leader")),
                       120, 0.2, "the standby to send while the leader is stopped")
        finally:
            os.killpg(procs[frozen].pid, signal.SIGCONT)
        count = len(sent(stack, "paused-leader"))
        wait_sent(stack, "paused-leader", count + 3)  # the woken one had its chance to send
        assert pid_of(leader(stack)["holder"]) == other.pid
        assert procs[frozen].poll() is None  # it stands by; it did not crash
    finally:
        for n in procs:
            stack.stop(n)
    assert_each_tick_once(stack, "paused-leader")


@pytest.mark.parametrize("policy", ["skip", "run_once"])
def test_ticks_missed_while_no_scheduler_ran_follow_the_schedules_policy(stack, create, policy):
    name = f"missed-{policy.replace('_', '-')}"
    create(stack, name, missed=policy)
    env = FAST | {"REPERTORY_SCHEDULES__MISFIRE_GRACE_S": "2"}
    client = redis.Redis.from_url(stack.redis_url)
    try:
        stack.start_scheduler(f"{name}-1", **env)
        wait_sent(stack, name, 2)
        stack.stop(f"{name}-1", signal.SIGKILL)
        last_before = max(r["planned"] for r in runs(stack, name))
        down_until = client.time()[0] + 6  # 6 s of Redis time: ≥ 3 ticks beyond the grace
        wait_until(lambda: client.time()[0] >= down_until, 30, 0.2, "the downtime to pass")
        stack.start_scheduler(f"{name}-2", **env)
        later = wait_until(lambda: [r for r in runs(stack, name) if r["planned"] > last_before
                                    and r["trigger"] != "tick"] or None,
                           120, 0.2, "the missed ticks to be handled")
        wait_until(lambda: any(r["trigger"] == "tick" and r["planned"] > later[0]["planned"]
                               for r in sent(stack, name)), 120, 0.2, "ticks to go on")
    finally:
        stack.stop(f"{name}-1")
        stack.stop(f"{name}-2")
    ledger = [r for r in runs(stack, name) if r["planned"] > last_before]
    gap = ledger[0]  # the first run after the restart stands for the missed ticks
    assert gap["missed"] >= 3, gap
    if policy == "skip":
        assert (gap["trigger"], gap["outcome"], gap["job_id"]) == ("missed", "skipped", None)
    else:
        assert gap["trigger"] == "catch_up" and gap["job_id"], gap
        assert stack.wait_status(gap["job_id"], "succeeded")
    # The missed ticks were not sent one by one: no run lies between the last one before the
    # stop and the one that stands for them, and the ledger records each tick once.
    planned = [r["planned"] for r in runs(stack, name)]
    assert len(set(planned)) == len(planned)
