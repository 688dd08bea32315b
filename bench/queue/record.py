"""What every bench task does, in every system: one RPUSH at the end of its body.

The entry is ``"<tag> <start> <end>"`` (``time.time()`` at the start and the end of the body),
pushed to ``DONE_KEY`` in the system's own Redis database. Every system pays this one write and
nothing else of ours. The client reads start times (latency) and end times (drains) from it.
"""

from __future__ import annotations

import os
import time
from typing import Any

DONE_KEY = "bench:done"
#: The URL (with the system's database number) the worker-side modules connect to.
URL_ENV = "BENCH_REDIS_URL"
SLEEP_S = 0.010


def url() -> str:
    return os.environ[URL_ENV]


def entry(tag: str, start: float) -> str:
    return f"{tag} {start:.6f} {time.time():.6f}"


def parse(raw: bytes | str) -> tuple[str, float, float]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    tag, start, end = text.split()
    return tag, float(start), float(end)


def declare_actors(broker: Any) -> tuple[Any, Any]:
    """The no-op and the 10 ms bench actors on a Dramatiq ``broker`` (raw or repertory's)."""
    import dramatiq
    import redis

    client = redis.Redis.from_url(url())

    @dramatiq.actor(broker=broker, queue_name="bench")
    def noop(tag: str) -> None:
        client.rpush(DONE_KEY, entry(tag, time.time()))

    @dramatiq.actor(broker=broker, queue_name="bench")
    def sleep(tag: str) -> None:
        start = time.time()
        time.sleep(SLEEP_S)
        client.rpush(DONE_KEY, entry(tag, start))

    return noop, sleep
