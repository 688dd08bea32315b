"""Queue names and Redis key prefixes, in one place."""

from __future__ import annotations

SOLVE = "solve"
SCRAPE = "scrape"
NOTIFY = "notify"
GPU = "gpu"
INDEX = "index"
DIAG = "diag"
SCHEDULE = "schedule"
#: HTTP jobs: many calls in flight per process on one event loop (``pools.deferred``).
HTTP = "http"
#: The blue/green reindex coordinator: one long job that feeds the gpu and index queues.
REINDEX = "reindex"
#: Interactive lanes: a search's query embedding and its index lookup. The same pools consume
#: them, and take them before queued bulk work (their own queue, and a higher priority).
GPU_QUERY = "gpu-query"
INDEX_QUERY = "index-query"

ALL_QUEUES: tuple[str, ...] = (SOLVE, SCRAPE, NOTIFY, GPU, INDEX, DIAG, SCHEDULE, GPU_QUERY,
                               INDEX_QUERY, HTTP, REINDEX)

#: Dramatiq actor priorities (lower runs first among messages a worker holds).
INTERACTIVE = 0
BULK = 100
#: Below bulk: a reindex's re-embedding, so uploads queued meanwhile go first.
BACKGROUND = 200

#: Prefix of every key repertory itself writes (the broker's keys use its own namespace).
PREFIX = "repertory"


def job_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}"


def job_index_key(kind: str | None = None, status: str | None = None) -> str:
    parts = [f"{PREFIX}:jobs"]
    if kind:
        parts.append(f"kind:{kind}")
    if status:
        parts.append(f"status:{status}")
    if len(parts) == 1:
        parts.append("all")
    return ":".join(parts)


def children_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:children"


def idempotency_key(scope: str, key: str) -> str:
    return f"{PREFIX}:idem:{scope}:{key}"


def worker_key(worker_id: str) -> str:
    return f"{PREFIX}:worker:{worker_id}"


WORKERS_INDEX = f"{PREFIX}:workers"
DURATIONS_KEY = f"{PREFIX}:metrics:durations"
GAUGES_KEY = f"{PREFIX}:metrics:gauges"
