"""Writes every job transition to the job-state store.

queued → running → succeeded | failed (permanent error) | retrying → … → dead (retries spent)
| cancelled. Messages with no job record (internal ones such as webhooks) pass untouched.
Must sit before Retries and Results in the middleware list (Dramatiq runs "after" hooks in
reverse): it reads ``message.failed`` set by Retries, and a job is only ``succeeded`` once its
result is stored.
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

log = logging.getLogger(__name__)

OnTerminal = Callable[[dict[str, Any]], None]


class JobState(Middleware):
    def __init__(self, store_factory: Callable[[], j.JobStore],
                 on_terminal: OnTerminal | None = None) -> None:
        self._factory = store_factory
        self._store: j.JobStore | None = None
        self.on_terminal = on_terminal

    @property
    def store(self) -> j.JobStore:
        if self._store is None:
            self._store = self._factory()
            context.bind_store(self._store)
        return self._store

    def after_process_boot(self, broker: Any) -> None:
        _ = self.store

    def before_process_message(self, broker: Any, message: Any) -> None:
        record = self.store.get(message.message_id)
        if record is None:
            return
        if record["status"] in j.TERMINAL:
            # Already finished (a redelivery after a crash between result and ack, or a job
            # cancelled while queued): never run it twice.
            raise SkipMessage(f"job {message.message_id} is {record['status']}")
        if record.get("cancel_requested"):
            self._finish(message.message_id, j.CANCELLED, allowed=j.ACTIVE)
            raise SkipMessage(f"job {message.message_id} was cancelled")
        applied, _ = self.store.transition(
            message.message_id, j.RUNNING, allowed_from=j.ACTIVE, started_at=time.time(),
            error_type=None, error_message=None,
        )
        if not applied:
            raise SkipMessage(f"job {message.message_id} is no longer runnable")
        self.store.count_attempt(message.message_id)
        self._parent_running(record)

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        job_id = message.message_id
        if not self.store.exists(job_id):
            return
        if exception is None:
            status = j.CANCELLED if self.store.cancel_requested(job_id) else j.SUCCEEDED
            self._finish(job_id, status, has_result=1)
            return
        kind, text = _describe(exception)
        if isinstance(exception, JobCancelled):
            self._finish(job_id, j.CANCELLED, error_type=kind, error_message=text)
        elif isinstance(exception, PermanentError):
            self._finish(job_id, j.FAILED, error_type=kind, error_message=text)
        elif message.failed:
            self._finish(job_id, j.DEAD, error_type=kind, error_message=text)
        else:
            self.store.transition(job_id, j.RETRYING, allowed_from=(j.RUNNING,),
                                  error_type=kind, error_message=text,
                                  retries=message.options.get("retries", 0))

    def after_skip_message(self, broker: Any, message: Any) -> None:
        if message.failed and self.store.exists(message.message_id):
            self._finish(message.message_id, j.DEAD, allowed=j.ACTIVE,
                         error_type="expired", error_message="message too old (age limit)")

    # -- helpers --------------------------------------------------------------------------
    def _finish(self, job_id: str, status: str, *, allowed: tuple[str, ...] = (j.RUNNING,),
                **fields: Any) -> None:
        applied, _ = self.store.transition(job_id, status, allowed_from=allowed,
                                           finished_at=time.time(), **fields)
        if not applied:
            return
        record = self.store.get(job_id)
        if record is None:
            return
        self._complete_parent(record)
        if self.on_terminal is not None:
            try:
                self.on_terminal(record)
            except Exception:  # a metrics or webhook hiccup must not fail the job
                log.exception("on_terminal hook failed for job %s", job_id)

    def _parent_running(self, record: dict[str, Any]) -> None:
        parent = record.get("parent_id")
        if parent:
            self.store.transition(parent, j.RUNNING, allowed_from=(j.QUEUED,),
                                  started_at=time.time())

    def _complete_parent(self, record: dict[str, Any]) -> None:
        parent_id = record.get("parent_id")
        if not parent_id:
            return
        parent = self.store.get(parent_id)
        if not parent or parent["children_done"] < parent["children_total"]:
            return
        ok = parent.get("children_succeeded", 0) > 0 or parent["children_total"] == 0
        self._finish(parent_id, j.SUCCEEDED if ok else j.FAILED, allowed=j.ACTIVE,
                     **({} if ok else {"error_type": "children",
                                       "error_message": "every child job failed"}))


def _describe(exception: BaseException) -> tuple[str, str]:
    if isinstance(exception, JobError):
        return exception.kind, exception.message
    return type(exception).__name__, str(exception) or type(exception).__name__
