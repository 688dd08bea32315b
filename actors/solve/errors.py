"""Typed errors of the solve family (both permanent: bad input is never retried)."""

from __future__ import annotations

from pools.errors import PermanentError


class ProblemFormatError(PermanentError):
    """The benchmark text is malformed; the message names the line and what is wrong."""

    kind = "problem_format"

    def __init__(self, message: str, *, line: int | None = None) -> None:
        text = f"line {line}: {message}" if line is not None else message
        super().__init__(text)
        self.line = line


class ProblemTooLarge(PermanentError):
    """The problem exceeds a configured size limit (the API answers 413)."""

    kind = "problem_too_large"
    http_status = 413

    def __init__(self, limit: str, value: int, maximum: int) -> None:
        super().__init__(f"problem too large: {limit} is {value}, the limit is {maximum}")
        self.limit = limit
        self.value = value
        self.maximum = maximum


class RosterCheckFailed(PermanentError):
    """The solver produced a roster the independent checker rejects (a model bug)."""

    kind = "roster_check_failed"
