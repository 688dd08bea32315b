"""Nothing accepted is lost: a worker killed mid-job, the API restarted, Valkey restarted."""

from __future__ import annotations

import os
import signal
import time

import redis
from stack_support import wait_until

from pools.embedded import EmbeddedValkey
from pools.jobs import JobStore


def test_a_job_whose_worker_is_killed_mid_run_completes_once_on_another_worker(make_stack):
    stack = make_stack()
    stack.start_api()
    stack.start_pool("cpu", processes=2, threads=1)
    client = redis.Redis.from_url(stack.redis_url)
    job_id = stack.submit("/v1/diag", {"mode": "sleep", "seconds": 4})["job_id"]
    stack.wait_status(job_id, "running", timeout=30)
    victim = stack.runner_pid(job_id)

    os.kill(victim, signal.SIGKILL)

    done = stack.wait_status(job_id, "succeeded", timeout=60)
    runs = [int(p) for p in client.lrange(f"repertory:diag:{job_id}", 0, -1)]
    assert runs[0] == victim and len(runs) == 2 and runs[1] != victim
    assert int(client.get(f"repertory:diag:{job_id}:done")) == 1, "exactly one completion"
    result = stack.http.get(f"/v1/jobs/{job_id}/result").json()["result"]
    assert result["pid"] == runs[1] and result["runs"] == 2
    assert done["attempts"] == 2
    # The supervisor replaced the killed process: two live cpu workers again, none the victim.
    workers = wait_until(lambda: len(w := stack.workers("cpu")) == 2 and w, 60,
                         what="the killed worker to be replaced")
    assert victim not in {w["pid"] for w in workers}


def test_jobs_accepted_before_an_api_restart_still_run(make_stack):
    stack = make_stack()
    stack.start_api()
    ids = [stack.submit("/v1/diag", {"mode": "ok"})["job_id"] for _ in range(3)]
    stack.stop("api")
    stack.start_api()
    assert {stack.job(i)["status"] for i in ids} == {"queued"}
    stack.start_pool("cpu")
    for job_id in ids:
        stack.wait_status(job_id, "succeeded", timeout=60)


def test_queued_work_survives_a_valkey_restart_through_the_append_only_file(tmp_path):
    from dramatiq import Message

    server = EmbeddedValkey(tmp_path / "valkey")
    url = server.start()
    client = redis.Redis.from_url(url)
    JobStore(client).create("j1", kind="diag", queue="diag", actor="diag")
    body = Message(queue_name="diag", actor_name="diag", args=(), kwargs={}, options={},
                   message_id="j1").encode()
    client.hset("dramatiq:diag.msgs", "r1", body)
    client.rpush("dramatiq:diag", "r1")
    port = server.port
    server.stop()

    again = EmbeddedValkey(tmp_path / "valkey", port=port)
    again.start()
    try:
        client = redis.Redis.from_url(again.url)
        assert JobStore(client).get("j1")["status"] == "queued"
        assert client.lrange("dramatiq:diag", 0, -1) == [b"r1"]
        assert (tmp_path / "valkey" / "appendonlydir").is_dir()
    finally:
        again.stop()


def test_a_worker_process_is_recycled_after_its_task_budget(make_stack):
    stack = make_stack(REPERTORY_POOLS__MAX_TASKS_PER_CHILD="3")
    stack.start_api()
    stack.start_pool("cpu", processes=1, threads=1)
    ids = []
    for _ in range(7):
        ids.append(stack.submit("/v1/diag", {"mode": "ok"})["job_id"])
        time.sleep(0.05)
    pids = []
    for job_id in ids:
        stack.wait_status(job_id, "succeeded", timeout=90)
        pids.append(stack.http.get(f"/v1/jobs/{job_id}/result").json()["result"]["pid"])
    per_pid = {pid: pids.count(pid) for pid in set(pids)}
    assert len(per_pid) >= 3, per_pid
    assert max(per_pid.values()) <= 3, per_pid
