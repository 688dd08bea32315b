import pytest

from actors.solve.errors import ProblemTooLarge
from actors.solve.limits import check_limits, effective_options, problem_size
from actors.solve.schema import RosterProblem, SolveOptions
from config.solve import SolveSettings


def problem(staff: int, days: int) -> RosterProblem:
    return RosterProblem.model_validate({
        "horizon": {"days": days},
        "shifts": [{"id": "D", "length_minutes": 480}, {"id": "N", "length_minutes": 480}],
        "staff": [{"id": f"S{i}"} for i in range(staff)],
    })


def test_problem_size_counts_decision_cells() -> None:
    size = problem_size(problem(3, 7))
    assert (size.staff, size.days, size.shift_types, size.cells) == (3, 7, 2, 42)


@pytest.mark.parametrize(
    ("limits", "name"),
    [({"max_staff": 2}, "max_staff"), ({"max_days": 6}, "max_days"),
     ({"max_shift_types": 1}, "max_shift_types"), ({"max_cells": 41}, "max_cells")],
)
def test_a_problem_over_a_limit_raises_too_large_naming_it(limits: dict, name: str) -> None:
    with pytest.raises(ProblemTooLarge) as info:
        check_limits(problem(3, 7), SolveSettings(**limits))
    assert info.value.limit == name and name in str(info.value)


def test_a_problem_within_the_limits_passes_and_options_are_clamped() -> None:
    settings = SolveSettings(max_cells=42, max_workers=4, max_time_limit_s=30,
                             default_workers=3)
    check_limits(problem(3, 7), settings)
    opts = effective_options(SolveOptions(time_limit_s=100), settings)
    assert (opts.time_limit_s, opts.workers) == (30, 3)
    assert effective_options(SolveOptions(workers=16), settings).workers == 4
