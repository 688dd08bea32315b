"""Retries that know our typed errors: permanent errors and cancellations are never retried."""

from __future__ import annotations

from typing import Any

from dramatiq.middleware import Retries

from pools.errors import JobCancelled, PermanentError


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
        super().after_process_message(broker, message, result=result, exception=exception)
