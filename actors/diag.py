"""A diagnostic actor: lets tests and operators exercise the platform end to end.

``mode``: ``ok`` returns at once, ``sleep`` works for ``seconds`` while honouring cancel,
``fail`` raises a transient error every time, ``flaky`` fails the first ``failures`` attempts,
``bad`` raises a permanent error. Every run appends the worker pid to ``repertory:diag:<job>``
so tests can count how often a job really ran.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import dramatiq

from config.queues import DIAG, PREFIX
from pools import context
from pools.errors import PermanentError, TransientError

log = logging.getLogger(__name__)


@dramatiq.actor(queue_name=DIAG, store_results=True, max_retries=3, min_backoff=200,
                max_backoff=1_000)
def diag(mode: str = "ok", seconds: float = 0.0, failures: int = 0) -> dict[str, Any]:
    job_id = context.current_job_id() or "adhoc"
    runs = _record_run(job_id)
    log.debug("diag run %d, mode %s", runs, mode)  # the job's own line (pools.logs)
    if mode == "bad":
        raise PermanentError(f"diag was asked to fail permanently (mode={mode!r})",
                             kind="bad_input")
    if mode == "fail" or (mode == "flaky" and runs <= failures):
        raise TransientError(f"diag transient failure on run {runs}")
    if mode == "sleep":
        _sleep(seconds)
    _record_done(job_id)
    return {"mode": mode, "pid": os.getpid(), "runs": runs}


def _record_run(job_id: str) -> int:
    key = f"{PREFIX}:diag:{job_id}"
    pipe = context.store().redis.pipeline(transaction=False)  # one round trip, not two
    pipe.rpush(key, os.getpid())
    pipe.expire(key, 3600)
    count, _ = pipe.execute()
    return int(count)


def _record_done(job_id: str) -> None:
    key = f"{PREFIX}:diag:{job_id}:done"
    pipe = context.store().redis.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, 3600)
    pipe.execute()


def _sleep(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        context.report_progress(round(seconds - left, 2), seconds)
        context.raise_if_cancelled()
        time.sleep(min(0.1, left))
