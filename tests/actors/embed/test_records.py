"""Image records on a real Valkey: the status only moves forward, and a deleted record stays
deleted."""

from __future__ import annotations

from actors.embed.records import EMBEDDED, FAILED, INDEXED, QUEUED, ImageRecords


def test_embedded_never_replaces_indexed_but_its_fields_are_written(redis_client) -> None:
    records = ImageRecords(redis_client)
    records.put("img", status=QUEUED, filename="a.png")
    records.set_status("img", INDEXED, point_id="p1")  # the index worker was first
    records.set_status("img", EMBEDDED, model_id="tiny")
    record = records.get("img")
    assert record["status"] == INDEXED
    assert (record["point_id"], record["model_id"], record["filename"]) == ("p1", "tiny", "a.png")
    assert records.last_indexed() is not None


def test_statuses_in_their_usual_order_are_all_kept(redis_client) -> None:
    records = ImageRecords(redis_client)
    records.put("img", status=QUEUED)
    created = records.get("img")["created_at"]
    records.set_status("img", EMBEDDED, model_id="tiny")
    assert records.get("img")["status"] == EMBEDDED
    assert records.last_indexed() is None
    records.set_status("img", INDEXED, point_id="p1")
    assert records.get("img")["status"] == INDEXED
    assert records.last_indexed() >= created
    records.set_status("img", FAILED, error="gone")  # a later failure is still written
    assert records.get("img")["status"] == FAILED
    records.put("other", status=QUEUED)
    records.link_job(["img", "other"], "job-1")
    assert records.get("img")["job_id"] == records.get("other")["job_id"] == "job-1"
    assert records.get("img")["created_at"] == created


def test_a_status_for_a_deleted_record_does_not_bring_it_back(redis_client) -> None:
    records = ImageRecords(redis_client)
    records.put("img", status=QUEUED)
    assert records.delete("img")
    records.set_status("img", INDEXED, point_id="p1")
    assert records.get("img") is None
    assert records.last_indexed() is None  # nothing was indexed
