"""Every accepted job reaches a final state: through a Valkey restart, a Ctrl-C past the grace,
a worker killed on an idle stack, a lost message and a lost ack. Real processes throughout."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from pathlib import Path

import pytest
import redis
from stack_support import Stack, wait_until

from pools.embedded import EmbeddedValkey

FINAL = {"succeeded", "failed", "dead", "cancelled"}


def _runs(client: redis.Redis, job_id: str) -> list[int]:
    return [int(p) for p in client.lrange(f"repertory:diag:{job_id}", 0, -1)]


def _completions(client: redis.Redis, job_id: str) -> int:
    return int(client.get(f"repertory:diag:{job_id}:done") or 0)


def _succeeded_reports(client: redis.Redis) -> int:
    return int(client.hget("repertory:metrics:durations", "diag|succeeded|+Inf") or 0)


@pytest.fixture()
def own_valkey(tmp_path: Path):
    server = EmbeddedValkey(tmp_path / "valkey")
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_eight_running_jobs_all_finish_once_when_valkey_stops_for_three_seconds(
        own_valkey, tmp_path, sig):
    stack = Stack(own_valkey.url, tmp_path)
    try:
        stack.start_api()
        stack.start_pool("cpu", processes=1, threads=8)
        ids = [stack.submit("/v1/diag", {"mode": "sleep", "seconds": 4})["job_id"]
               for _ in range(8)]
        for job_id in ids:
            stack.wait_status(job_id, "running", timeout=60)
        time.sleep(1.5)  # what the jobs wrote on start is on disk (AOF fsync every second)
        port = own_valkey.port
        own_valkey._proc.send_signal(sig)
        own_valkey._proc.wait(timeout=30)
        time.sleep(3)
        again = EmbeddedValkey(own_valkey.data_dir, port=port)
        again.start()
        own_valkey._proc = again._proc  # the fixture stops the new one

        records = [stack.wait_status(i, FINAL, timeout=120) for i in ids]
        client = redis.Redis.from_url(stack.redis_url)
        assert {r["status"] for r in records} == {"succeeded"}, records
        assert all(_completions(client, i) >= 1 for i in ids), "each ran to completion"
        wait_until(lambda: _succeeded_reports(client) >= 8, 10, what="the metrics flush")
        time.sleep(1.5)  # past two flush periods (metrics.FLUSH_EVERY_S): nothing more comes
        assert _succeeded_reports(client) == 8, "no job reported succeeded twice"
        queues = stack.http.get("/v1/queues").json()
        diag = next(q for q in queues if q["queue"] == "diag")
        assert (diag["ready"], diag["in_flight"], diag["dead"]) == (0, 0, 0)
    finally:
        stack.close()


def test_a_job_running_past_the_grace_at_ctrl_c_is_requeued_and_completes_after_a_restart(
        make_stack):
    stack = make_stack()  # grace: REPERTORY_POOLS__SHUTDOWN_TIMEOUT_MS=3000
    stack.start_api()
    pool = stack.start_pool("cpu", processes=1, threads=2)
    job_id = stack.submit("/v1/diag", {"mode": "sleep", "seconds": 8})["job_id"]
    stack.wait_status(job_id, "running", timeout=60)

    pool.send_signal(signal.SIGINT)  # what a terminal's Ctrl-C sends the supervisor
    pool.wait(timeout=60)
    stack.procs.pop("pool-cpu")
    record = stack.job(job_id)
    assert record["status"] == "queued", record
    assert record["error"]["type"] == "shutdown" and "grace" in record["error"]["message"]
    queues = {q["queue"]: q for q in stack.http.get("/v1/queues").json()}
    assert (queues["diag"]["ready"], queues["diag"]["in_flight"]) == (1, 0)

    stack.start_pool("cpu", processes=1, threads=2)
    done = stack.wait_status(job_id, FINAL, timeout=90)
    client = redis.Redis.from_url(stack.redis_url)
    assert done["status"] == "succeeded" and _completions(client, job_id) == 1
    assert len(_runs(client, job_id)) == 2


def test_a_worker_killed_on_an_idle_stack_with_production_settings_has_its_job_done_in_15s(
        make_stack):
    stack = make_stack(REPERTORY_REDIS__HEARTBEAT_TIMEOUT_MS="10000",
                       REPERTORY_REDIS__MAINTENANCE_CHANCE="1000",
                       REPERTORY_POOLS__HEARTBEAT_INTERVAL_S="5")
    stack.start_api()
    stack.start_pool("cpu", processes=2, threads=1)
    client = redis.Redis.from_url(stack.redis_url)
    job_id = stack.submit("/v1/diag", {"mode": "sleep", "seconds": 1})["job_id"]
    stack.wait_status(job_id, "running", timeout=60)
    victim = stack.runner_pid(job_id)

    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    done = stack.wait_status(job_id, FINAL, timeout=60)
    elapsed = time.monotonic() - killed
    assert done["status"] == "succeeded"
    assert _runs(client, job_id)[-1] != victim
    assert elapsed < 15, f"recovered in {elapsed:.1f} s"


def _lose_message(client: redis.Redis, queue: str, job_id: str) -> None:
    """Delete a ready message's body and id, as a Valkey that lost its last writes would."""
    for rid, body in client.hgetall(f"dramatiq:{queue}.msgs").items():
        if job_id.encode() in body:
            client.hdel(f"dramatiq:{queue}.msgs", rid)
            client.lrem(f"dramatiq:{queue}", 0, rid)


def test_a_record_left_running_without_a_message_is_requeued_or_marked_dead(make_stack):
    stack = make_stack(REPERTORY_REDIS__RECONCILE_INTERVAL_S="1",
                       REPERTORY_REDIS__RECONCILE_AFTER_S="1")
    stack.start_api()
    client = redis.Redis.from_url(stack.redis_url)
    retried = stack.submit("/v1/diag", {"mode": "ok"})["job_id"]
    spent = stack.submit("/v1/diag", {"mode": "ok"})["job_id"]
    for job_id in (retried, spent):
        _lose_message(client, "diag", job_id)
        client.hset(f"repertory:job:{job_id}", mapping={"status": "running"})
        client.zrem("repertory:jobs:status:queued", job_id)
        client.zadd("repertory:jobs:status:running", {job_id: 1})
    client.hset(f"repertory:job:{spent}", "attempts", 4)  # diag: max_retries=3 → 4 runs
    stack.start_pool("cpu", processes=1, threads=2)

    done = stack.wait_status(retried, FINAL, timeout=60)
    assert done["status"] == "succeeded" and _completions(client, retried) == 1
    dead = stack.wait_status(spent, FINAL, timeout=60)
    assert dead["status"] == "dead" and dead["error"]["type"] == "lost_message"
    assert "no retries remain" in dead["error"]["message"]


def test_a_message_stuck_in_a_live_workers_unacked_set_is_requeued(make_stack):
    stack = make_stack()
    stack.start_api()
    stack.start_pool("cpu", processes=1, threads=1)
    client = redis.Redis.from_url(stack.redis_url)
    stack.http.post("/v1/diag", json={"mode": "ok"})  # the worker is up and has fetched
    broker_id = wait_until(lambda: client.zrange("dramatiq:__heartbeats__", 0, 0), 30,
                           what="the worker's broker heartbeat")[0].decode()
    # A message taken off the queue into the worker's unacked set, as a fetch whose reply
    # was lost, or a prefetch the consumer dropped when its connection broke: the worker
    # does not hold it, and its heartbeat keeps the broker from ever requeueing it.
    job_id = stack.submit("/v1/diag", {"mode": "ok", "delay_ms": 600_000})["job_id"]
    raw = next(b for b in client.hvals("dramatiq:diag.DQ.msgs") if job_id.encode() in b)
    message = json.loads(raw)  # the job's message, as its own queue would hold it
    message["queue_name"] = "diag"
    message["options"].pop("eta")
    rid = message["options"]["redis_message_id"] = str(uuid.uuid4())
    client.hset("dramatiq:diag.msgs", rid, json.dumps(message))
    client.sadd(f"dramatiq:__acks__.{broker_id}.diag", rid)

    done = stack.wait_status(job_id, FINAL, timeout=60)
    assert done["status"] == "succeeded"
