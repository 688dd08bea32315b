"""The weekend bound of ``bench/weekend_bound.py`` against rosters counted by hand."""

from __future__ import annotations

from itertools import product
from pathlib import Path

from actors.solve.reader import parse_problem_text
from actors.solve.schema import RosterProblem
from bench.weekend_bound import weekend_bound

DATA = Path(__file__).resolve().parents[1] / "data" / "shift_scheduling"


def two_weekends(demands: list[int], staff: int, most: int) -> RosterProblem:
    """Two weeks from a Monday, one shift; ``demands`` for days 5, 6, 12 and 13."""
    cover = [{"day": d, "shift_id": "D", "requirement": r}
             for d, r in zip((5, 6, 12, 13), demands, strict=True)]
    return RosterProblem.model_validate({
        "horizon": {"days": 14}, "shifts": [{"id": "D", "length_minutes": 480}],
        "staff": [{"id": f"S{i}", "max_weekends": most} for i in range(staff)],
        "cover": cover})


def most_covered_by_brute_force(problem: RosterProblem) -> int:
    """Every member's choice of weekend days within their weekends, tried."""
    need = {row.day: row.requirement for row in problem.cover}
    weekends = ((5, 6), (12, 13))
    options = []
    for st in problem.staff:
        mine = []
        for pick in product(range(4), repeat=2):  # per weekend: none, Sat, Sun, both
            if sum(p > 0 for p in pick) <= st.max_weekends:
                mine.append({d for p, (sat, sun) in zip(pick, weekends, strict=True)
                             for d in ((), (sat,), (sun,), (sat, sun))[p]})
        options.append(mine)
    best = 0
    for choice in product(*options):
        count = {d: sum(d in days for days in choice) for d in need}
        best = max(best, sum(min(need[d], count[d]) for d in need))
    return best


def test_the_bound_covers_what_the_best_weekend_choice_covers_on_small_problems() -> None:
    for demands, staff, most in (([3, 1, 2, 2], 2, 1), ([2, 2, 0, 1], 3, 1),
                                 ([1, 3, 3, 0], 2, 2), ([0, 0, 2, 2], 3, 2)):
        problem = two_weekends(demands, staff, most)
        got = weekend_bound(problem)
        assert got["most_covered"] == most_covered_by_brute_force(problem), demands
        assert got["least_short"] == sum(demands) - got["most_covered"]


def test_no_optimum_of_instances_1_to_3_leaves_fewer_weekend_shifts_short_than_the_bound() -> None:
    optima = {1: 607, 2: 828, 3: 1001}  # (each cover row's weight_under is 100 there)
    for n, optimum in optima.items():
        problem = parse_problem_text((DATA / f"Instance{n}.txt").read_text())
        assert {row.weight_under for row in problem.cover} == {100}
        assert 0 < weekend_bound(problem)["least_short"] * 100 <= optimum
