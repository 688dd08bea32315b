"""Retries that know our typed errors and survive a broker outage.

Permanent errors and cancellations are never retried. The retry of a transient failure is
enqueued through ``through_outage``: were it dropped during a Redis restart, the message would
be acknowledged with no retry queued and the job lost.
"""

from __future__ import annotations

from typing import Any

from dramatiq.middleware import Retries
from dramatiq.results import Results
from dramatiq.results.result import wrap_result

from pools.errors import JobCancelled, PermanentError
from pools.outage import through_outage


class _DurableEnqueue:
    """The broker, with ``enqueue`` retried through an outage."""

    def __init__(self, broker: Any) -> None:
        self._broker = broker

    def enqueue(self, message: Any, *, delay: int | None = None) -> Any:
        return through_outage(lambda: self._broker.enqueue(message, delay=delay),
                              what=f"enqueueing the retry of {message.message_id}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._broker, name)


class TypedRetries(Retries):
    """Dramatiq's exponential-backoff retries, minus the errors that retrying cannot fix.

    A permanent error is not dead-lettered either: the message is acknowledged and the job
    record says ``failed`` with the error, so the dead-letter queue holds only work that
    should have succeeded.
    """

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        if isinstance(exception, PermanentError | JobCancelled):
            return
        super().after_process_message(_DurableEnqueue(broker), message, result=result,
                                      exception=exception)


def durable_results(**kwargs: Any) -> Results:
    """Dramatiq's ``Results`` (its own class: Dramatiq checks ``type(m) is Results``), storing
    through an outage (a job is only ``succeeded`` once its result is), and never
    overwriting a result with the ``None`` of a skipped redelivery of a finished job.

    A job's result is not stored here when its move rides with the ack: it is handed to the
    committer, which sends it in the same MULTI/EXEC as the ``succeed`` move and the ack
    (one round trip fewer per job, and no moment with a result but no outcome or the
    reverse)."""
    results = Results(**kwargs)
    store, nack = results.after_process_message, results.after_nack

    def after_process_message(broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        if exception is None and _rides_with_ack(broker, message):
            keep, ttl_ms = results._lookup_options(broker, message)
            if keep:  # stored with the job's move and ack, in one step (pools.committer)
                backend = results.backend
                message._repertory_result = (backend.build_message_key(message),
                                             backend.encoder.encode(wrap_result(result)), ttl_ms)
                return
        through_outage(lambda: store(broker, message, result=result, exception=exception),
                       what=f"storing the result of {message.message_id}")

    def after_nack(broker: Any, message: Any) -> None:
        through_outage(lambda: nack(broker, message),
                       what=f"storing the error of {message.message_id}")

    results.after_process_message = after_process_message  # type: ignore[method-assign]
    results.after_nack = after_nack  # type: ignore[method-assign]
    results.after_skip_message = lambda broker, message: None  # type: ignore[method-assign]
    return results


def _rides_with_ack(broker: Any, message: Any) -> bool:
    """A job's outcome goes out with its ack when the job-state middleware moved it to
    running and the process has an open committer (``pools.committer``)."""
    committer = getattr(broker, "committer", None)
    return (getattr(message, "_repertory_job", False) and committer is not None
            and not committer.closed)
