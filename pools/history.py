"""Bounded history for the dashboard, kept in Redis so it outlives any API process.

* Per-minute counters, one hash per minute kept ``KEEP_S`` (a day and an hour):
  - ``done|<queue>|<kind>|<outcome>``: jobs that reached a terminal state (``count_finished``,
    called from the "a job finished" hook wherever the job finished; buffered with the
    duration metrics, so no extra round trip per job);
  - ``depth|<queue>|<state>``: queue depths, sampled once a minute by whichever API process
    gets there first (``sample_depths``).
* A job's webhook deliveries, each attempt's outcome, the newest ``DELIVERIES_KEPT``
  (``record_delivery``), expiring with the job record.

The timeline of a job's moves is kept by the store itself (``JobStore.events``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import redis

from config import queues as q
from pools import metrics

KEEP_S = 25 * 3600
PREFIX = f"{q.PREFIX}:history"
DEPTH_STATES = ("ready", "delayed", "in_flight", "dead")
DELIVERIES_KEPT = 20


def minute_of(ts: float) -> int:
    return int(ts // 60)


def minute_key(minute: int) -> str:
    return f"{PREFIX}:{minute}"


# -- writing ------------------------------------------------------------------------------
def count_finished(client: redis.Redis, record: dict[str, Any]) -> None:
    """Count a job that reached a terminal state in its minute."""
    minute = minute_of(record.get("finished_at") or time.time())
    name = f"done|{record.get('queue') or '-'}|{record.get('kind') or '-'}|{record['status']}"
    metrics.add_counts(client, minute_key(minute), {name: 1}, KEEP_S)


def sample_depths(client: redis.Redis, read_stats: Any, now: float | None = None) -> bool:
    """Record the queue depths ``read_stats()`` returns for the current minute, once per
    minute across every caller (the first one wins). True when this call recorded them."""
    minute = minute_of(now if now is not None else time.time())
    if not client.set(f"{PREFIX}:sampled:{minute}", 1, nx=True, ex=120):
        return False
    mapping = {f"depth|{s['queue']}|{state}": int(s[state])
               for s in read_stats() for state in DEPTH_STATES}
    pipe = client.pipeline(transaction=False)
    if mapping:
        pipe.hset(minute_key(minute), mapping=mapping)
    pipe.expire(minute_key(minute), KEEP_S)
    pipe.execute()
    return True


def deliveries_key(job_id: str) -> str:
    return f"{q.job_key(job_id)}:webhooks"


def record_delivery(client: redis.Redis, job_id: str, *, url: str, attempt: int,
                    ttl_s: int, status_code: int | None = None,
                    error: str | None = None) -> None:
    """One webhook delivery attempt for ``job_id``: the answer's status, or the error."""
    entry = {"at": time.time(), "url": url, "attempt": attempt, "status_code": status_code,
             "error": error, "ok": error is None}
    key = deliveries_key(job_id)
    pipe = client.pipeline(transaction=False)
    pipe.rpush(key, json.dumps(entry))
    pipe.ltrim(key, -DELIVERIES_KEPT, -1)
    pipe.expire(key, ttl_s)
    pipe.execute()


def deliveries(client: redis.Redis, job_id: str) -> list[dict[str, Any]]:
    return [json.loads(e) for e in client.lrange(deliveries_key(job_id), 0, -1)]


# -- reading ------------------------------------------------------------------------------
@dataclass
class Window:
    """The last ``len(minutes)`` minutes, oldest first; one value per minute in each series."""

    minutes: list[int]
    done: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)
    depth: dict[tuple[str, str], list[int | None]] = field(default_factory=dict)

    def finished_by(self, part: str) -> dict[str, list[int]]:
        """Finished jobs per minute summed by ``part``: "queue", "kind" or "outcome"."""
        index = ("queue", "kind", "outcome").index(part)
        out: dict[str, list[int]] = {}
        for name, series in self.done.items():
            total = out.setdefault(name[index], [0] * len(self.minutes))
            for i, value in enumerate(series):
                total[i] += value
        return dict(sorted(out.items()))

    def total(self, part: str) -> dict[str, int]:
        return {name: sum(series) for name, series in self.finished_by(part).items()}


def read_window(client: redis.Redis, minutes: int = 60, now: float | None = None) -> Window:
    end = minute_of(now if now is not None else time.time())
    window = Window(list(range(end - minutes + 1, end + 1)))
    pipe = client.pipeline(transaction=False)
    for minute in window.minutes:
        pipe.hgetall(minute_key(minute))
    for i, raw in enumerate(pipe.execute()):
        _add_minute(window, i, raw.items())
    return window


def _add_minute(window: Window, i: int, fields: Iterable[tuple[bytes, bytes]]) -> None:
    size = len(window.minutes)
    for name, value in fields:
        parts = name.decode().split("|")
        if parts[0] == "done" and len(parts) == 4:
            series = window.done.setdefault((parts[1], parts[2], parts[3]), [0] * size)
            series[i] += int(value)
        elif parts[0] == "depth" and len(parts) == 3:
            window.depth.setdefault((parts[1], parts[2]), [None] * size)[i] = int(value)
