"""Writes every job transition to the job-state store.

The moves and their rules are ``pools.lifecycle.EVENTS``; this middleware only says which one
happened: ``start`` before the actor runs, then ``succeed`` | ``fail`` (permanent error) |
``retry_later`` | ``die`` (retries spent) | ``stop`` (cancel flag). Messages with no job record
(internal ones such as webhooks) pass untouched.

Must sit before Retries and Results in the middleware list (Dramatiq runs "after" hooks in
reverse): it reads ``message.failed`` set by Retries, and a job is only ``succeeded`` once its
result is stored. Every write after the actor ran goes through ``through_outage``: an outcome
that cannot be recorded yet holds the message unacknowledged until Redis answers again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from dramatiq.middleware import Middleware, SkipMessage

from pools import context
from pools import jobs as j
from pools.errors import JobCancelled, JobError, PermanentError
from pools.outage import through_outage

log = logging.getLogger(__name__)


class JobState(Middleware):
    def __init__(self, store_factory: Callable[[], j.JobStore]) -> None:
        self._factory = store_factory
        self._store: j.JobStore | None = None

    @property
    def store(self) -> j.JobStore:
        if self._store is None:
            self._store = self._factory()
            context.bind_store(self._store)
        return self._store

    def after_process_boot(self, broker: Any) -> None:
        _ = self.store

    def before_process_message(self, broker: Any, message: Any) -> None:
        job_id = message.message_id
        record = through_outage(lambda: self.store.get(job_id), what=f"reading job {job_id}")
        if record is None:
            return
        if record["status"] in j.TERMINAL:
            # Already finished (a redelivery after a crash between result and ack, or a job
            # cancelled while queued): never run it twice.
            raise SkipMessage(f"job {job_id} is {record['status']}")
        if record.get("cancel_requested"):
            self._move(job_id, "stop", finished_at=time.time())
            raise SkipMessage(f"job {job_id} was cancelled")
        applied = self._move(job_id, "start", started_at=time.time(), error_type=None,
                             error_message=None)
        if not applied:
            raise SkipMessage(f"job {job_id} is no longer runnable")

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        job_id = message.message_id
        if not through_outage(lambda: self.store.exists(job_id), what=f"reading job {job_id}"):
            return
        if exception is None:
            cancelled = through_outage(lambda: self.store.cancel_requested(job_id),
                                       what=f"reading job {job_id}")
            self._move(job_id, "stop" if cancelled else "succeed", has_result=1,
                       finished_at=time.time())
            return
        kind, text = _describe(exception)
        if isinstance(exception, JobCancelled):
            event = "stop"
        elif isinstance(exception, PermanentError):
            event = "fail"
        elif message.failed:
            event = "die"
        else:
            self._move(job_id, "retry_later", error_type=kind, error_message=text,
                       retries=message.options.get("retries", 0))
            return
        self._move(job_id, event, error_type=kind, error_message=text, finished_at=time.time())

    def after_skip_message(self, broker: Any, message: Any) -> None:
        job_id = message.message_id
        if message.failed and self.store.exists(job_id):
            self._move(job_id, "expire", error_type="expired", finished_at=time.time(),
                       error_message="message too old (age limit)")

    def _move(self, job_id: str, event: str, **fields: Any) -> bool:
        applied, _ = through_outage(lambda: self.store.transition(job_id, event, **fields),
                                    what=f"recording {event} of job {job_id}")
        return applied


def _describe(exception: BaseException) -> tuple[str, str]:
    if isinstance(exception, JobError):
        return exception.kind, exception.message
    return type(exception).__name__, str(exception) or type(exception).__name__
