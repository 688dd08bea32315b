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
