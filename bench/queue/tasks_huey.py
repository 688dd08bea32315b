"""Huey: ``RedisHuey`` (blocking BRPOP, the default), results off.

    huey_consumer bench.queue.tasks_huey.huey -w 8 -k thread
"""

from __future__ import annotations

import time

import redis
from huey import RedisHuey

from bench.queue import record

huey = RedisHuey("bench", url=record.url(), results=False)
client = redis.Redis.from_url(record.url())


@huey.task(name="noop")
def noop(tag: str) -> None:
    client.rpush(record.DONE_KEY, record.entry(tag, time.time()))


@huey.task(name="sleep")
def sleep(tag: str) -> None:
    start = time.time()
    time.sleep(record.SLEEP_S)
    client.rpush(record.DONE_KEY, record.entry(tag, start))
