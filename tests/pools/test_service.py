from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
import redis

from config.settings import Settings
from pools import jobs as j
from pools.broker import build_broker
from pools.embedded import EmbeddedValkey
from pools.service import JobService


@pytest.fixture()
def own_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[redis.Redis]:
    """A Valkey of this test's own: the tests below shrink its memory limit."""
    server = EmbeddedValkey(tmp_path / "valkey")
    monkeypatch.setenv("REDIS_URL", server.start())
    client = redis.Redis.from_url(server.url)
    try:
        yield client
    finally:
        client.close()
        server.stop()


@pytest.fixture()
def service(own_server: redis.Redis) -> JobService:
    broker = build_broker(Settings(), set_global=False)

    @dramatiq.actor(broker=broker, queue_name="diag", actor_name="probe")
    def probe(blob: str = "") -> None:
        pass

    return JobService(Settings(), broker)


def parents(service: JobService) -> list[dict]:
    return service.store.list(kind="probe-batch").items


def test_a_batch_whose_enqueue_fails_partway_is_cancelled_whole_and_frees_its_key(
        service: JobService, own_server: redis.Redis) -> None:
    used = own_server.info("memory")["used_memory"]
    own_server.config_set("maxmemory-policy", "noeviction")
    own_server.config_set("maxmemory", used + 10_000_000)  # room for a few 1 MB children
    items = [((), {"blob": "x" * 1_000_000}) for _ in range(20)]
    with pytest.raises(redis.ResponseError, match="maxmemory"):
        service.submit_batch("probe", kind="probe-batch", child_kind="probe", items=items,
                             idempotency_key="k1")
    own_server.config_set("maxmemory", 0)  # the server recovers; the sweep finishes the job
    service.sweep_incomplete_batches(older_than_s=0)
    [parent] = parents(service)
    children = service.store.children(parent["id"])
    assert 1 <= len(children) < 20  # it really failed partway
    assert parent["status"] == j.CANCELLED and parent["error_type"] == "not_accepted"
    assert f"only {len(children)} of 20 children" in parent["error_message"]
    assert {service.get(c)["status"] for c in children} == {j.CANCELLED}  # never run
    again = service.submit_batch("probe", kind="probe-batch", child_kind="probe",
                                 items=[((), {})], idempotency_key="k1")
    assert again.created and again.job["id"] != parent["id"]  # the key was freed


def test_the_sweep_leaves_whole_batches_and_young_incomplete_ones_alone(
        service: JobService) -> None:
    whole = service.submit_batch("probe", kind="probe-batch", child_kind="probe",
                                 items=[((), {}), ((), {})]).job["id"]
    young = service.submit_batch("probe", kind="probe-batch", child_kind="probe",
                                 items=[((), {})]).job["id"]
    service.store.set_fields(young, children_total=3)  # as if two children never got queued
    assert service.sweep_incomplete_batches(older_than_s=600) == 0
    assert service.sweep_incomplete_batches(older_than_s=0) == 1
    assert service.get(whole)["status"] == j.QUEUED
    assert service.get(young)["status"] == j.CANCELLED
