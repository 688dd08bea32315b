"""What an actor may ask about the job it is running: its id, progress, cancel flag.

    from pools.context import report_progress, raise_if_cancelled
    report_progress(3, 10, objective=812)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dramatiq.middleware import CurrentMessage

from pools.errors import JobCancelled
from pools.jobs import JobStore
from pools.outage import OUTAGE_ERRORS

log = logging.getLogger(__name__)

_store: JobStore | None = None


def bind_store(store: JobStore) -> None:
    global _store
    _store = store


def store() -> JobStore:
    """The job store of this worker process (bound at boot by the job-state middleware)."""
    if _store is None:
        raise RuntimeError("no job store bound: not running inside a worker")
    return _store


def current_job_id() -> str | None:
    message = CurrentMessage.get_current_message()
    return message.message_id if message is not None else None


def report_progress(done: float | None, total: float | None = None, **extra: Any) -> None:
    """Record progress on the running job (no-op outside a job)."""
    progress_reporter()(done, total, **extra)


def progress_reporter() -> Callable[..., None]:
    """``report_progress`` bound to the current job, for callbacks run on other threads
    (CP-SAT's solution callback, an asyncio loop) where the current message is not visible."""
    job_id = current_job_id()

    def report(done: float | None, total: float | None = None, **extra: Any) -> None:
        if job_id and _store is not None:
            try:
                _store.set_progress(job_id, done, total, **extra)
            except OUTAGE_ERRORS:  # progress is best effort: a Redis restart must not fail
                log.debug("progress of job %s not recorded (Redis away)", job_id)

    return report


def cancel_checker() -> Callable[[], bool]:
    """``cancel_requested`` bound to the current job, callable from any thread."""
    job_id = current_job_id()

    def check() -> bool:
        try:
            return bool(job_id and _store is not None and _store.cancel_requested(job_id))
        except OUTAGE_ERRORS:  # cannot tell now: keep working, ask again next time
            return False

    return check


def cancel_requested() -> bool:
    return cancel_checker()()


def raise_if_cancelled() -> None:
    if cancel_requested():
        raise JobCancelled("cancelled on request")
