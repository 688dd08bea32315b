"""Request/response over the broker: send a message, wait for its result.

The API uses it to reach what only a worker holds: the CLIP model (gpu queue) and, with an
embedded vector store, the index (queue ``index``). No job record is written for these calls.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.results import ResultFailure, ResultTimeout

from pools.errors import PermanentError, TransientError


class WorkerUnavailable(TransientError):
    """No worker answered in time (HTTP 503)."""

    kind = "worker_unavailable"
    http_status = 503


def pool_of(queue_name: str) -> str:
    """The pool that serves ``queue_name`` (the queue's own name when none is defined)."""
    from config.settings import get_settings
    from pools.definitions import pools

    for name, pool in pools(get_settings()).items():
        if queue_name in pool.queues and name not in ("cpu", "solve", "scrape"):
            return name
    return queue_name


def call(broker: dramatiq.Broker, backend: Any, actor_name: str, *args: Any,
         timeout_s: float = 30.0, **kwargs: Any) -> Any:
    actor = broker.get_actor(actor_name)
    message = actor.send(*args, **kwargs)
    try:
        return backend.get_result(message, block=True, timeout=int(timeout_s * 1000))
    except ResultTimeout:
        pool = pool_of(actor.queue_name)
        raise WorkerUnavailable(
            f"no {pool!r} worker answered {actor_name} within {timeout_s:.0f}s; "
            f"is the {pool} pool running?") from None
    except ResultFailure as exc:
        raise PermanentError(f"{actor_name} failed: {exc}", kind="worker_error") from None
