"""The reindex's Redis book-keeping on a real Valkey: one at a time, when the schedule starts
one, and what the snapshot holds."""

from __future__ import annotations

from actors.embed.records import FAILED, INDEXED, QUEUED, ImageRecords
from actors.index import models, reindex
from pools.jobs import JobStore


def test_a_reindex_is_not_started_twice_until_its_job_finishes(redis_client) -> None:
    store = JobStore(redis_client)
    holder, token = reindex.claim(redis_client)
    assert holder is None and token
    assert reindex.claim(redis_client) == (token, "")  # being submitted: taken
    store.create("job-1", kind="reindex", queue="reindex", actor="reindex_all")
    reindex.adopt(redis_client, token, "job-1")
    assert reindex.running(redis_client) == "job-1"
    assert reindex.claim(redis_client) == ("job-1", "")
    store.transition("job-1", "start")
    assert reindex.claim(redis_client) == ("job-1", "")
    store.transition("job-1", "fail", error_type="x", error_message="y")
    assert reindex.running(redis_client) is None  # a finished job frees the lock
    holder, token = reindex.claim(redis_client)
    assert holder is None
    reindex.adopt(redis_client, token, None)  # the submit failed: free again
    assert reindex.running(redis_client) is None


def test_the_schedule_starts_one_only_when_the_model_changed(redis_client) -> None:
    assert not reindex.wanted(redis_client, "model-b")  # nothing recorded yet
    models.set_state(redis_client, live="model-a")
    assert not reindex.wanted(redis_client, "model-a")
    assert reindex.wanted(redis_client, "model-b")
    models.set_state(redis_client, rolled_back="model-b")  # a rollback just left it
    assert not reindex.wanted(redis_client, "model-b")
    assert reindex.wanted(redis_client, "model-c")


def test_the_snapshot_holds_every_stored_image_but_failed_ones(redis_client) -> None:
    records = ImageRecords(redis_client)
    for image_id, status in (("a", INDEXED), ("b", QUEUED), ("c", FAILED)):
        records.put(image_id, status=status, blob_key=f"{image_id * 64}", product_id="p",
                    name=image_id, description=None, metadata={"k": 1}, created_ts=1.0,
                    filename=f"{image_id}.png", format="png", width=1, height=1)
    redis_client.set("repertory:images:counts", 3)  # a neighbour key, not an image
    items = reindex.snapshot(redis_client)
    assert [i["image_id"] for i in items] == ["a", "b"]
    assert items[0]["doc"] == {"product_id": "p", "name": "a", "metadata": {"k": 1},
                               "blob_key": "a" * 64, "created_ts": 1.0}
