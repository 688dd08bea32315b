"""Typed job errors.

Actors (and the pure modules they call) raise these so the middleware knows what to do:

* ``PermanentError`` — the input is bad or the request can never succeed. Not retried; the job
  goes straight to ``failed`` with the message shown to the user.
* ``TransientError`` — a passing condition (network, busy resource). Retried with backoff; when
  the retries run out the message lands in the dead-letter queue and the job is ``dead``.
* ``JobCancelled`` — the job's cancel flag was seen. Not retried; the job ends ``cancelled``.

Any other exception is treated as transient.
"""

from __future__ import annotations

import logging


class JobError(Exception):
    """Base of the typed job errors."""

    #: A short machine-readable kind shown in the job's ``error.type``.
    kind: str = "error"
    #: The HTTP status the API answers when this is raised while validating a request.
    http_status: int = 422

    def __init__(self, message: str, *, kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind


class PermanentError(JobError):
    """Bad input or an impossible request: fail now, never retry."""

    kind = "permanent"


class TransientError(JobError):
    """A passing condition: retry with backoff."""

    kind = "transient"


class JobCancelled(JobError):
    """The job was cancelled while it ran."""

    kind = "cancelled"


class TypedErrorLogFilter(logging.Filter):
    """Dramatiq logs every exception an actor raises at ERROR with its traceback. For our typed
    errors (bad input, a passing outage, a cancel) the type and message say everything, and a
    retried outage would fill the logs with identical stacks: log one WARNING line instead.
    Untyped exceptions (bugs) keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, JobError):
            record.msg = f"{record.getMessage()} {type(exc).__name__} ({exc.kind}): {exc}"
            record.args = ()
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_typed_errors() -> None:
    """Install :class:`TypedErrorLogFilter` on Dramatiq's worker-thread logger (once)."""
    logger = logging.getLogger("dramatiq.worker.WorkerThread")
    if not any(isinstance(f, TypedErrorLogFilter) for f in logger.filters):
        logger.addFilter(TypedErrorLogFilter())
