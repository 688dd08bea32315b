"""Problem size and the configured limits (over a limit: :class:`ProblemTooLarge`, HTTP 413)."""

from __future__ import annotations

from pydantic import BaseModel

from actors.solve.errors import ProblemTooLarge
from actors.solve.schema import RosterProblem, SolveOptions
from config.solve import SolveSettings


class ProblemSize(BaseModel):
    staff: int
    days: int
    shift_types: int
    cells: int
    requests: int


def problem_size(problem: RosterProblem) -> ProblemSize:
    staff, days, shifts = len(problem.staff), problem.horizon.days, len(problem.shifts)
    requests = (len(problem.shift_on_requests) + len(problem.shift_off_requests)
                + len(problem.cover))
    return ProblemSize(staff=staff, days=days, shift_types=shifts,
                       cells=staff * days * shifts, requests=requests)


def check_limits(problem: RosterProblem, settings: SolveSettings) -> None:
    """Raise :class:`ProblemTooLarge` naming the first limit the problem exceeds."""
    size = problem_size(problem)
    for limit, value, maximum in (
        ("max_staff", size.staff, settings.max_staff),
        ("max_days", size.days, settings.max_days),
        ("max_shift_types", size.shift_types, settings.max_shift_types),
        ("max_cells", size.cells, settings.max_cells),
        ("max_requests", size.requests, settings.max_requests),
    ):
        if value > maximum:
            raise ProblemTooLarge(limit, value, maximum)


def effective_options(options: SolveOptions, settings: SolveSettings) -> SolveOptions:
    """Fill defaults from settings and clamp the time limit and workers to their maxima."""
    workers = options.workers or settings.default_workers
    if workers is not None:
        workers = min(workers, settings.max_workers)
    return options.model_copy(update={
        "time_limit_s": min(options.time_limit_s, settings.max_time_limit_s),
        "workers": workers,
    })
