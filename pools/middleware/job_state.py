"""Writes every job transition to the job-state store.

The moves and their rules are ``pools.lifecycle.EVENTS``; this middleware only says which one
happened: ``start`` before the actor runs, then ``succeed`` | ``fail`` (permanent error) |
``retry_later`` | ``die`` (retries spent) | ``stop`` (cancel flag). Messages with no job record
(internal ones such as webhooks) pass untouched.

Must sit before Retries and Results in the middleware list (Dramatiq runs "after" hooks in
reverse): it reads ``message.failed`` set by Retries, and a job is only ``succeeded`` once its
result is stored. The finishing move rides with the message's ack (``pools.committer``): the
record never says finished while the message is pending, nor is a message acknowledged
without its outcome; through an outage both wait until Redis answers again.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from typing import Any

from dramatiq.middleware import Middleware, SkipMessage

from pools import context
from pools import jobs as j
from pools.committer import Committer
from pools.errors import JobCancelled, JobError, PermanentError
from pools.outage import through_outage

log = logging.getLogger(__name__)

_HOST = socket.gethostname()


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

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        if hasattr(broker, "committer"):  # a RepertoryBroker: acks go with the moves
            broker.committer = Committer(broker, self.store)

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        """Commit what finished (this runs before ``Recovery`` puts back what still runs)."""
        committer = getattr(broker, "committer", None)
        if committer is not None and not committer.close(timeout_s=10):
            log.warning("finished messages not committed at shutdown: the broker requeues them")

    def before_process_message(self, broker: Any, message: Any) -> None:
        """One round trip, made here (the thread needs the answer before it runs the job):
        ``start`` is refused for a finished job and becomes ``stop`` when the cancel flag is
        set (see ``pools.lifecycle``)."""
        job_id = message.message_id
        fields = {"started_at": time.time(), "error_type": None, "error_message": None,
                  "worker": f"{_HOST}:{os.getpid()}"}  # on the attempt's timeline entry
        moved = through_outage(lambda: self.store.move_own(job_id, "start", **fields),
                               what=f"recording the start of job {job_id}")
        if moved.previous is None:
            return  # no record: an internal message (webhook, RPC)
        if moved.applied and moved.event == "start":
            message._repertory_job = True
            return
        if moved.applied:
            raise SkipMessage(f"job {job_id} was cancelled")
        # Already finished (a redelivery after a crash between result and ack, or a job
        # cancelled while queued): never run it twice.
        raise SkipMessage(f"job {job_id} is {moved.previous}")

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        if not getattr(message, "_repertory_job", False):
            return
        if exception is None:  # becomes "stop" in the same step when the flag is set
            self._finish(broker, message, "succeed", has_result=1, finished_at=time.time())
            return
        kind, text = _describe(exception)
        trace = "".join(traceback.format_exception(exception, limit=-30))  # timeline only
        if isinstance(exception, JobCancelled):
            event = "stop"
        elif isinstance(exception, PermanentError):
            event = "fail"
        elif message.failed:
            event = "die"
        else:
            self._finish(broker, message, "retry_later", error_type=kind, error_message=text,
                         retries=message.options.get("retries", 0), log_traceback=trace)
            return
        self._finish(broker, message, event, error_type=kind, error_message=text,
                     finished_at=time.time(), log_traceback=trace)

    def after_skip_message(self, broker: Any, message: Any) -> None:
        job_id = message.message_id
        if message.failed and self.store.exists(job_id):
            self._move(job_id, "expire", error_type="expired", finished_at=time.time(),
                       error_message="message too old (age limit)")

    def _finish(self, broker: Any, message: Any, event: str, **fields: Any) -> None:
        """Hand the move to the committer, which sends it with the ack; or make it now."""
        if getattr(broker, "committer", None) is not None:  # closed: the consumer makes it
            message._repertory_move = (message.message_id, event, fields)
        else:
            self._move(message.message_id, event, **fields)

    def _move(self, job_id: str, event: str, **fields: Any) -> bool:
        applied, _ = through_outage(lambda: self.store.transition(job_id, event, **fields),
                                    what=f"recording {event} of job {job_id}")
        return applied


def _describe(exception: BaseException) -> tuple[str, str]:
    if isinstance(exception, JobError):
        return exception.kind, exception.message
    return type(exception).__name__, str(exception) or type(exception).__name__
