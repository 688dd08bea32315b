import itertools

from actors.solve.checker import check_roster
from actors.solve.schema import RosterProblem
from actors.solve.windows import max_work_in_windows


def test_window_bounds_equal_brute_force_over_every_valid_work_pattern() -> None:
    days = 11
    problem = RosterProblem.model_validate({
        "horizon": {"days": days},
        "shifts": [{"id": "D", "length_minutes": 60}],
        "staff": [{"id": "A", "max_consecutive_shifts": 3, "min_consecutive_shifts": 2,
                   "min_consecutive_days_off": 2, "max_weekends": 1, "days_off": [2]}],
    })
    best = [[-1] * days for _ in range(days)]
    for pattern in itertools.product([None, "D"], repeat=days):
        if not check_roster(problem, {"A": list(pattern)}).feasible:
            continue
        work = [p is not None for p in pattern]
        for a in range(days):
            for b in range(a, days):
                best[a][b] = max(best[a][b], sum(work[a:b + 1]))
    assert max_work_in_windows(problem.staff[0], days) == [
        [best[a][b] if b >= a else -1 for b in range(days)] for a in range(days)]
