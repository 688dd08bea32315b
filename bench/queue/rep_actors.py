"""repertory's job path with bench actors: the product's broker and middleware, job records.

    REDIS_URL=... python -m dramatiq bench.queue.rep_actors --processes P --threads T

The broker is ``pools.broker.build_broker(get_settings())``, as in ``actors/__init__.py``:
every job submitted through ``pools.service.JobService`` has a record whose state the
middleware moves (queued → running → succeeded), plus recovery, heartbeats and retries.
"""

from __future__ import annotations

import time

import dramatiq
import redis

from bench.queue import record
from config.settings import get_settings
from pools.broker import build_broker

broker = build_broker(get_settings())
client = redis.Redis.from_url(record.url())


@dramatiq.actor(broker=broker, queue_name="bench")
def noop(tag: str) -> None:
    client.rpush(record.DONE_KEY, record.entry(tag, time.time()))


@dramatiq.actor(broker=broker, queue_name="bench")
def sleep(tag: str) -> None:
    start = time.time()
    time.sleep(record.SLEEP_S)
    client.rpush(record.DONE_KEY, record.entry(tag, start))
