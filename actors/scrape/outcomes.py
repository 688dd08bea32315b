"""Typed outcomes of a domain scrape and how the job layer should treat each of them."""

from __future__ import annotations

from enum import StrEnum

from pools.errors import JobError, PermanentError, TransientError


class Outcome(StrEnum):
    OK = "ok"
    BLOCKED = "blocked"  # robots.txt, 401/403, refused address
    UNREACHABLE = "unreachable"  # DNS, connect errors, 5xx, robots 5xx
    TIMEOUT = "timeout"  # a deadline passed
    TOO_LARGE = "too_large"  # a body over the decoded size cap
    EXTRACT_FAILED = "extract_failed"  # the page was fetched but its extraction crashed
    ERROR = "error"  # an unexpected error in the scraper itself (a bug), kept to its domain


#: Outcomes that will not change on retry: the job fails at once.
PERMANENT: frozenset[Outcome] = frozenset({Outcome.BLOCKED, Outcome.TOO_LARGE,
                                           Outcome.EXTRACT_FAILED})
#: Outcomes worth retrying with backoff (an unexpected error too, like any untyped one).
TRANSIENT: frozenset[Outcome] = frozenset({Outcome.UNREACHABLE, Outcome.TIMEOUT, Outcome.ERROR})


def is_permanent(outcome: Outcome) -> bool:
    return outcome in PERMANENT


def is_transient(outcome: Outcome) -> bool:
    return outcome in TRANSIENT


class ScrapeError(Exception):
    """A fetch failed with a typed outcome (never ``ok``)."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message


def job_error(outcome: Outcome, message: str) -> JobError | None:
    """The typed job error the actor raises for an outcome; ``None`` for ``ok``."""
    if outcome is Outcome.OK:
        return None
    cls = PermanentError if is_permanent(outcome) else TransientError
    return cls(message or outcome.value, kind=f"scrape_{outcome.value}")
