"""build_broker: the one place a broker is built, against any Redis URL (passwords too)."""

from __future__ import annotations

import redis

from config.settings import Settings
from pools.broker import build_broker, build_store
from pools.embedded import EmbeddedValkey
from pools.middleware import Heartbeat, JobState, Recycle, Resources, TypedRetries


def test_a_password_protected_server_is_reached_through_the_url(tmp_path, monkeypatch):
    server = EmbeddedValkey(tmp_path / "valkey", password="s3cr3t")
    server.start()
    try:
        bare = server.url.replace(":s3cr3t@", "")
        try:
            redis.Redis.from_url(bare).ping()
            raise AssertionError("the server must refuse clients without the password")
        except redis.AuthenticationError:
            pass
        monkeypatch.setenv("REDIS_URL", server.url)
        settings = Settings()
        broker = build_broker(settings, set_global=False)
        import dramatiq

        @dramatiq.actor(broker=broker, queue_name="diag", actor_name="probe")
        def probe() -> None:
            pass

        probe.send()
        assert redis.Redis.from_url(server.url).llen("dramatiq:diag") == 1
        store = build_store(settings)
        store.create("j", kind="diag", queue="diag", actor="probe")
        assert store.get("j")["status"] == "queued"
    finally:
        server.stop()


def test_the_middleware_stack_orders_job_state_before_retries_and_results():
    broker = build_broker(Settings(), set_global=False)
    names = [type(m).__name__ for m in broker.middleware]
    for expected in ("AgeLimit", "TimeLimit", "ShutdownNotifications", "Callbacks",
                     "Pipelines", "CurrentMessage", "Results"):
        assert expected in names
    assert names.index("JobState") < names.index("TypedRetries") < names.index("Results")
    assert names[0] == "Recovery", "it must see every message a thread takes"
    assert {Heartbeat, JobState, Recycle, Resources, TypedRetries} <= {
        type(m) for m in broker.middleware}
    retries = next(m for m in broker.middleware if isinstance(m, TypedRetries))
    assert (retries.max_retries, retries.min_backoff, retries.max_backoff) == (5, 1000, 300000)
