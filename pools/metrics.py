"""Job metrics kept in Redis so every process (workers, API) sees the same numbers.

Workers add job durations to a fixed-bucket histogram; the API renders it, plus job counts by
kind and status and queue depths, in Prometheus text format at ``/metrics``.
"""

from __future__ import annotations

import atexit
import bisect
import functools
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import redis
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from config.queues import DURATIONS_KEY, GAUGES_KEY

log = logging.getLogger(__name__)

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


def record_duration(client: redis.Redis, kind: str, status: str, seconds: float) -> None:
    """Count a finished job in the duration histogram. Buffered: one process's counts reach
    Redis within ``FLUSH_EVERY_S`` in one round trip, not one per job."""
    base = f"{kind}|{status}"
    counts = dict.fromkeys(_bucket_fields(base, bisect.bisect_left(BUCKETS, seconds)), 1.0)
    counts[f"{base}|sum"] = seconds
    add_counts(client, DURATIONS_KEY, counts)


@functools.lru_cache(maxsize=4096)
def _bucket_fields(base: str, first: int) -> tuple[str, ...]:
    """The cumulative buckets a duration falls in (``BUCKETS[first:]`` and ``+Inf``): built
    once per kind, status and bucket, not for every finished job."""
    return (*(f"{base}|{bound}" for bound in BUCKETS[first:]), f"{base}|+Inf")


def add_counts(client: redis.Redis, key: str, counts: dict[str, float],
               ttl_s: int | None = None) -> None:
    """Add to fields of the hash ``key`` (expiring ``ttl_s`` after the last write), through
    the same buffer as the durations."""
    _buffer.add(client, key, counts, ttl_s)


def flush_durations() -> None:
    _buffer.flush()


def drop_buffered() -> None:
    """Forget the counts not yet sent: for a process (a test) that switches to another
    server, whose counts must not land on the new one."""
    _buffer.drop()


FLUSH_EVERY_S = 0.5


class _CountBuffer:
    """Counts for hash fields, sent to Redis together every ``FLUSH_EVERY_S``."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], float] = {}
        self._ttls: dict[str, int] = {}
        self._lock = threading.Lock()
        self._client: redis.Redis | None = None
        self._thread: threading.Thread | None = None

    def add(self, client: redis.Redis, key: str, counts: dict[str, float],
            ttl_s: int | None) -> None:
        with self._lock:
            self._client = client
            for field, value in counts.items():
                self._bump((key, field), value)
            if ttl_s is not None:
                self._ttls[key] = ttl_s
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="repertory-metrics",
                                                daemon=True)
                self._thread.start()
                atexit.register(self._flush_quietly)

    def drop(self) -> None:
        with self._lock:
            self._counts, self._ttls, self._client = {}, {}, None

    def _bump(self, field: tuple[str, str], value: float) -> None:
        self._counts[field] = self._counts.get(field, 0) + value

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_EVERY_S)
            self._flush_quietly()

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except redis.RedisError as exc:  # kept, and sent with the next flush
            log.debug("metrics flush failed: %s", exc)

    def flush(self) -> None:
        with self._lock:
            counts, self._counts, client = self._counts, {}, self._client
            ttls, self._ttls = self._ttls, {}
        if not counts or client is None:
            return
        pipe = client.pipeline(transaction=False)
        for (key, field), value in counts.items():
            if field.endswith("|sum"):
                pipe.hincrbyfloat(key, field, value)
            else:
                pipe.hincrby(key, field, int(value))
        for key, ttl_s in ttls.items():
            pipe.expire(key, ttl_s)
        try:
            pipe.execute()
        except redis.RedisError:
            with self._lock:  # put them back for the next flush
                for field, value in counts.items():
                    self._bump(field, value)
                self._ttls.update({k: v for k, v in ttls.items() if k not in self._ttls})
            raise


_buffer = _CountBuffer()


def set_gauge(client: redis.Redis, name: str, value: float, **labels: str) -> None:
    """A process-wide gauge (e.g. the GPU batcher's last batch size)."""
    label = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    client.hset(GAUGES_KEY, f"{name}|{label}", value)


def _durations(client: redis.Redis) -> Iterator[Any]:
    raw = {k.decode(): v.decode() for k, v in client.hgetall(DURATIONS_KEY).items()}
    series: dict[tuple[str, str], dict[str, float]] = {}
    for field, value in raw.items():
        kind, status, bound = field.split("|")
        series.setdefault((kind, status), {})[bound] = float(value)
    family = HistogramMetricFamily("repertory_job_duration_seconds",
                                   "Run time of finished jobs", labels=["kind", "status"])
    for (kind, status), values in sorted(series.items()):
        buckets = [(str(b), values.get(str(b), 0.0)) for b in BUCKETS]
        buckets.append(("+Inf", values.get("+Inf", 0.0)))
        family.add_metric([kind, status], buckets, values.get("sum", 0.0))
    yield family


def _gauges(client: redis.Redis) -> Iterator[Any]:
    grouped: dict[str, list[tuple[dict[str, str], float]]] = {}
    for field, value in client.hgetall(GAUGES_KEY).items():
        name, label = field.decode().split("|", 1)
        labels = dict(p.split("=", 1) for p in label.split(",") if p)
        grouped.setdefault(name, []).append((labels, float(value)))
    for name, rows in sorted(grouped.items()):
        keys = sorted({k for labels, _ in rows for k in labels})
        family = GaugeMetricFamily(f"repertory_{name}", name.replace("_", " "), labels=keys)
        for labels, value in rows:
            family.add_metric([labels.get(k, "") for k in keys], value)
        yield family


class RepertoryCollector(Collector):
    """Reads Redis at scrape time: jobs by kind/status, queue depths, durations, gauges."""

    def __init__(self, service: Any) -> None:
        self.service = service

    def collect(self) -> Iterator[Any]:
        jobs = GaugeMetricFamily("repertory_jobs", "Jobs by kind and status",
                                 labels=["kind", "status"])
        store = self.service.store
        for (kind, status), count in sorted(store.count_by(store.kinds()).items()):
            jobs.add_metric([kind, status], count)
        yield jobs
        depth = GaugeMetricFamily("repertory_queue_messages", "Messages per queue and state",
                                  labels=["queue", "state"])
        for stats in self.service.admin.all_stats():
            for state in ("ready", "delayed", "in_flight", "dead"):
                depth.add_metric([stats["queue"], state], stats[state])
        yield depth
        yield from _durations(store.redis)
        yield from _gauges(store.redis)
