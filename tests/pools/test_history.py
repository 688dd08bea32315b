"""The dashboard's history on a real Valkey: per-minute counts, depth samples, a job's
timeline and its webhook deliveries, all bounded."""

from __future__ import annotations

import pytest

from pools import history, metrics
from pools.jobs import JobStore, events_key

NOW = 1_800_000_030.0  # 30 s into a minute


@pytest.fixture()
def store(redis_client) -> JobStore:
    return JobStore(redis_client, record_ttl_s=3600)


def _finished(queue: str, kind: str, status: str, at: float) -> dict:
    return {"id": "x", "queue": queue, "kind": kind, "status": status, "finished_at": at}


def test_finished_jobs_are_counted_per_minute_by_queue_kind_and_outcome(redis_client):
    metrics.drop_buffered()  # counts earlier tests in this process left unsent
    for record in (_finished("solve", "solve", "succeeded", NOW - 120),
                   _finished("solve", "solve", "succeeded", NOW - 1),
                   _finished("solve", "solve", "failed", NOW - 1),
                   _finished("diag", "diag", "dead", NOW)):
        history.count_finished(redis_client, record)
    metrics.flush_durations()
    window = history.read_window(redis_client, minutes=5, now=NOW)
    assert window.finished_by("outcome") == {"dead": [0, 0, 0, 0, 1], "failed": [0, 0, 0, 0, 1],
                                             "succeeded": [0, 0, 1, 0, 1]}
    assert window.total("queue") == {"diag": 1, "solve": 3}
    assert window.done[("solve", "solve", "failed")] == [0, 0, 0, 0, 1]
    ttl = redis_client.ttl(history.minute_key(history.minute_of(NOW)))
    assert 0 < ttl <= history.KEEP_S


def test_queue_depths_are_sampled_once_a_minute_whoever_offers(redis_client):
    stats = [{"queue": "solve", "ready": 4, "delayed": 1, "in_flight": 2, "dead": 0}]
    assert history.sample_depths(redis_client, lambda: stats, now=NOW) is True
    later = [{**stats[0], "ready": 99}]
    assert history.sample_depths(redis_client, lambda: later, now=NOW + 20) is False
    assert history.sample_depths(redis_client, lambda: later, now=NOW + 60) is True
    window = history.read_window(redis_client, minutes=3, now=NOW + 60)
    assert window.depth[("solve", "ready")] == [None, 4, 99]
    assert window.depth[("solve", "in_flight")] == [None, 2, 2]


def test_webhook_deliveries_keep_the_newest_and_expire_with_the_job(redis_client):
    for attempt in range(1, history.DELIVERIES_KEPT + 3):
        history.record_delivery(redis_client, "j1", url="http://127.0.0.1:9/hook",
                                attempt=attempt, ttl_s=600, error=f"answered 500 ({attempt})")
    history.record_delivery(redis_client, "j1", url="http://127.0.0.1:9/hook",
                            attempt=99, ttl_s=600, status_code=204)
    kept = history.deliveries(redis_client, "j1")
    assert len(kept) == history.DELIVERIES_KEPT
    assert kept[-1]["ok"] is True and kept[-1]["status_code"] == 204
    assert not kept[0]["ok"] and kept[0]["attempt"] == 4
    assert 0 < redis_client.ttl(history.deliveries_key("j1")) <= 600


def test_a_timeline_keeps_every_move_with_its_worker_and_the_failures_tracebacks(store):
    store.create("a", kind="diag", queue="diag", actor="diag")
    store.transition("a", "start", worker="node-1:41")
    store.transition("a", "retry_later", error_type="transient", error_message="boom",
                     log_traceback="Traceback ...\nTransientError: boom")
    store.transition("a", "start", worker="node-2:7", error_type=None, error_message=None)
    store.transition("a", "succeed", finished_at=NOW)
    events = store.events("a")
    assert [(e["event"], e["from"], e["to"], e["attempt"]) for e in events] == [
        ("start", "queued", "running", 1), ("retry_later", "running", "retrying", 1),
        ("start", "retrying", "running", 2), ("succeed", "running", "succeeded", 2)]
    assert [e.get("worker") for e in events] == ["node-1:41", None, "node-2:7", None]
    assert events[1]["traceback"].endswith("TransientError: boom")
    assert events[1]["error_message"] == "boom"
    record = store.get("a")
    assert "traceback" not in record and "log_traceback" not in record  # the timeline's only
    assert record["worker"] == "node-2:7"
    assert 0 < store.redis.ttl(events_key("a")) <= 3600  # finished: expires with the record
    store.delete("a")
    assert store.events("a") == []


def test_a_refused_move_leaves_no_trace_and_a_batch_parent_logs_its_own(store):
    store.create("p", kind="batch", queue="scrape", actor="scrape", children_total=1)
    store.create("c", kind="page", queue="scrape", actor="scrape", parent_id="p")
    store.transition("c", "start", worker="h:1")
    store.transition("c", "succeed", finished_at=NOW)
    assert store.transition("c", "start")[0] is False
    assert [e["event"] for e in store.events("c")] == ["start", "succeed"]
    assert [(e["event"], e["child"]) for e in store.events("p")] == [("open", "c"),
                                                                       ("settle_ok", "c")]


def test_the_timeline_is_bounded(store):
    from pools.scripts import EVENTS_KEPT

    store.create("a", kind="diag", queue="diag", actor="diag")
    for _ in range(EVENTS_KEPT):
        store.transition("a", "start")
        store.transition("a", "interrupt")
    events = store.events("a")
    assert len(events) == EVENTS_KEPT
    assert events[-1]["event"] == "interrupt" and events[-1]["attempt"] == EVENTS_KEPT
