"""Riding out a broker outage: book-keeping that must not be skipped is retried until Redis
answers again.

A worker that finished a job must record the outcome (result, retry, state) before the
message is acknowledged; if it cannot, acknowledging would lose the job. So the "after" hooks
wrap their writes in ``through_outage``: on a connection error they wait and try again, with
backoff, for as long as the process lives, the way Dramatiq itself retries the ack. The
message stays unacknowledged meanwhile; if the process dies first, the message is still in
its unacked set and is requeued by the broker's maintenance, so nothing is lost either way.

``max_wait_s`` bounds the wait for callers that answer a person (the API): there the error
reaches the client instead, who knows the request was not accepted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import redis

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Errors that mean "the server is away", not "the command is wrong". Valkey answers
#: BUSYLOADING while it replays its append-only file after a restart.
#: A read-only replica after a fail-over: wait for the new primary.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, redis.ReadOnlyError,
)


def through_outage(fn: Callable[[], T], *, what: str, max_wait_s: float | None = None,
                   first_delay_s: float = 0.05, max_delay_s: float = 1.0) -> T:
    """``fn()``, retried on connection errors until it succeeds (or ``max_wait_s`` passes,
    then the last error is raised)."""
    delay, waited, warned = first_delay_s, 0.0, False
    while True:
        try:
            return fn()
        except OUTAGE_ERRORS as exc:
            if max_wait_s is not None and waited >= max_wait_s:
                raise
            if not warned:
                log.warning("Redis unavailable while %s (%s); retrying until it answers",
                            what, exc)
                warned = True
            time.sleep(delay)
            waited += delay
            delay = min(max_delay_s, delay * 2)
