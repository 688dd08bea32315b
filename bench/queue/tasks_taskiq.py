"""taskiq + taskiq-redis ``ListQueueBroker`` (no result backend), async tasks.

    taskiq worker bench.queue.tasks_taskiq:broker --workers P --max-async-tasks 8
"""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis
from taskiq_redis import ListQueueBroker

from bench.queue import record

broker = ListQueueBroker(url=record.url(), queue_name="bench")
_client: aioredis.Redis | None = None


def client() -> aioredis.Redis:
    global _client
    if _client is None:  # one per worker process, on its event loop
        _client = aioredis.Redis.from_url(record.url())
    return _client


@broker.task(task_name="noop")
async def noop(tag: str) -> None:
    await client().rpush(record.DONE_KEY, record.entry(tag, time.time()))


@broker.task(task_name="sleep")
async def sleep(tag: str) -> None:
    start = time.time()
    await asyncio.sleep(record.SLEEP_S)
    await client().rpush(record.DONE_KEY, record.entry(tag, start))
