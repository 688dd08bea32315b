"""``build_broker(settings)``: the one place a broker and its middleware are built.

Redis (any Redis ≥ 6 or Valkey; ``rediss://`` and passwords via the URL) is the engine today.
Another engine (RabbitMQ) would be one more branch here: actors and routes only ever see the
``dramatiq.Broker`` this returns.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
import redis
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    ShutdownNotifications,
    TimeLimit,
)
from dramatiq.results.backends.redis import RedisBackend

from config.queues import ALL_QUEUES
from config.settings import Settings
from pools import history, lifecycle, metrics
from pools.errors import quiet_typed_errors
from pools.jobs import JobStore
from pools.logs import JobLogContext
from pools.middleware import (
    Heartbeat,
    JobState,
    ParentWatch,
    Recovery,
    Recycle,
    Resources,
    TypedRetries,
    durable_results,
)
from pools.outage import through_outage
from pools.redis_broker import RepertoryBroker

log = logging.getLogger(__name__)

NOTIFY_ACTOR = "notify"


def redis_url(settings: Settings) -> str:
    """The configured Redis URL, or the embedded Valkey's when none is configured."""
    return settings.redis.url_value() or f"redis://127.0.0.1:{settings.redis.embedded_port}/0"


def redis_client(settings: Settings, **kwargs: Any) -> redis.Redis:
    return redis.Redis.from_url(redis_url(settings), health_check_interval=30, **kwargs)


def build_store(settings: Settings, client: redis.Redis | None = None) -> JobStore:
    return JobStore(client or redis_client(settings), record_ttl_s=settings.jobs.record_ttl_s)


def build_result_backend(settings: Settings, client: redis.Redis | None = None) -> RedisBackend:
    return RedisBackend(client=client or redis_client(settings), namespace="repertory-results",
                        use_namespace_prefix_keys=True)


def build_broker(settings: Settings, *, set_global: bool = True) -> dramatiq.Broker:
    jobs = settings.jobs
    broker = RepertoryBroker(
        url=redis_url(settings),
        namespace=settings.redis.namespace,
        heartbeat_timeout=settings.redis.heartbeat_timeout_ms,
        maintenance_chance=settings.redis.maintenance_chance,
        dead_message_ttl=settings.redis.dead_message_ttl_ms,
        middleware=[],
    )
    job_state = JobState(lambda: build_store(settings))
    for middleware in (
        # First: it must see every message a thread takes, until it is acknowledged.
        Recovery(lambda: build_store(settings), queues=ALL_QUEUES,
                 interval_s=settings.redis.maintenance_interval_s,
                 reconcile_interval_s=settings.redis.reconcile_interval_s,
                 reconcile_after_s=settings.redis.reconcile_after_s,
                 max_retries=jobs.max_retries,
                 grace_s=settings.pools.shutdown_timeout_ms / 1000),
        # Early: the lines of every middleware after it (and of the actor) carry the job.
        JobLogContext(settings),
        AgeLimit(),
        TimeLimit(time_limit=jobs.time_limit_ms),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        CurrentMessage(),
        # "after" hooks run in reverse order: Results stores the result, then Retries decides
        # retry or dead letter, then JobState records the outcome it can now see.
        job_state,
        TypedRetries(max_retries=jobs.max_retries, min_backoff=jobs.min_backoff_ms,
                     max_backoff=jobs.max_backoff_ms),
        durable_results(backend=build_result_backend(settings),
                        result_ttl=jobs.result_ttl_s * 1000),
        Heartbeat(lambda: redis_client(settings), pool=settings.pools.current,
                  interval_s=settings.pools.heartbeat_interval_s),
        Recycle(settings.pools.max_tasks_per_child, supervised=settings.pools.current is not None),
        Resources(),
        ParentWatch(),
    ):
        broker.add_middleware(middleware)
    lifecycle.on_finished("book-keeping", lambda store, record: through_outage(
        lambda: on_terminal(broker, store, record), max_wait_s=60,
        what=f"sending the webhook and metrics of job {record.get('id')}"))
    quiet_typed_errors()
    if set_global:
        dramatiq.set_broker(broker)
    return broker


def on_terminal(broker: dramatiq.Broker, store: JobStore, record: dict[str, Any]) -> None:
    """Book-keeping when a job finishes: duration metrics, the dashboard's per-minute
    counts and the completion webhook."""
    started, finished = record.get("started_at"), record.get("finished_at")
    if started and finished:
        metrics.record_duration(store.redis, record["kind"], record["status"], finished - started)
    history.count_finished(store.redis, record)
    if record.get("callback_url"):
        actor = broker.actors.get(NOTIFY_ACTOR)
        if actor is None:
            log.warning("job %s has a callback but no notify actor is declared", record["id"])
            return
        actor.send(record["callback_url"], job_summary(record))


def job_summary(record: dict[str, Any]) -> dict[str, Any]:
    """What a webhook receives: enough to act without calling back."""
    keys = ("id", "kind", "status", "attempts", "created_at", "started_at", "finished_at",
            "parent_id", "progress")
    summary = {k: record.get(k) for k in keys}
    if record.get("error_type"):
        summary["error"] = {"type": record["error_type"], "message": record.get("error_message")}
    summary["result_url"] = f"/v1/jobs/{record['id']}/result"
    return summary
