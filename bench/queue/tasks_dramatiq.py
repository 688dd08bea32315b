"""Raw Dramatiq: a RedisBroker with its default middleware and the two bench actors.

    python -m dramatiq bench.queue.tasks_dramatiq --processes P --threads T
"""

from __future__ import annotations

import time

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from bench.queue import record

broker = RedisBroker(url=record.url())
dramatiq.set_broker(broker)
client = redis.Redis.from_url(record.url())


@dramatiq.actor(broker=broker, queue_name="bench")
def noop(tag: str) -> None:
    client.rpush(record.DONE_KEY, record.entry(tag, time.time()))


@dramatiq.actor(broker=broker, queue_name="bench")
def sleep(tag: str) -> None:
    start = time.time()
    time.sleep(record.SLEEP_S)
    client.rpush(record.DONE_KEY, record.entry(tag, start))
