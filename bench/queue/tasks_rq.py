"""RQ job functions (``rq worker-pool -n N bench``): each job runs in a forked work horse and
writes through the job's own connection, as RQ jobs do."""

from __future__ import annotations

import time

from rq import get_current_job

from bench.queue import record


def noop(tag: str) -> None:
    start = time.time()
    get_current_job().connection.rpush(record.DONE_KEY, record.entry(tag, start))


def sleep(tag: str) -> None:
    start = time.time()
    time.sleep(record.SLEEP_S)
    get_current_job().connection.rpush(record.DONE_KEY, record.entry(tag, start))
