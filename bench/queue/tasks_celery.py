"""Celery with the Redis broker and no result backend.

    celery -A bench.queue.tasks_celery worker --pool threads --concurrency 8
"""

from __future__ import annotations

import time

import redis
from celery import Celery

from bench.queue import record

app = Celery("bench", broker=record.url())
app.conf.update(task_ignore_result=True, broker_connection_retry_on_startup=True,
                task_default_queue="bench")
client = redis.Redis.from_url(record.url())


@app.task(name="noop")
def noop(tag: str) -> None:
    client.rpush(record.DONE_KEY, record.entry(tag, time.time()))


@app.task(name="sleep")
def sleep(tag: str) -> None:
    start = time.time()
    time.sleep(record.SLEEP_S)
    client.rpush(record.DONE_KEY, record.entry(tag, start))
