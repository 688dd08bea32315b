"""A week move swaps one member's block of days with the same days whole weeks away: every
weekday keeps the member's values, and a weekend's work can move to another weekend."""

import numpy as np

from actors.solve.anneal import Annealer
from actors.solve.schema import RosterProblem
from tests.actors.solve.random_problems import random_problem
from tests.actors.solve.test_solve_anneal import SEEDS, start


def by_weekday(x: np.ndarray) -> list[list[list[int]]]:
    """Per member and day of the week, the member's values on those days, sorted."""
    return [[sorted(row[k::7].tolist()) for k in range(7)] for row in x]


def test_week_moves_keep_each_members_values_on_each_day_of_the_week() -> None:
    moved = 0
    for seed in SEEDS[:7]:
        problem = random_problem(seed)
        if problem.horizon.days < 8:
            continue
        ann = start(problem, seed)
        ann.set_shares((0.0, 0.0, 0.0, 0.0, 0.0, 1.0))
        first = ann.x.copy()
        ann.run(5_000, 20.0, 5.0, 10.0, seed)
        assert by_weekday(ann.x) == by_weekday(first)
        moved += bool((ann.x != first).any())
    assert moved  # (some problems were long enough, and some moves were taken)


def two_weekends() -> RosterProblem:
    """Two weeks from a Monday, one member who works two shifts and one weekend at most (and
    one who may not work: the annealer's member moves need two): the first weekend's rows
    ask for no one, the second's for one each (100 a missing shift, 1 a shift over)."""
    return RosterProblem.model_validate({
        "horizon": {"days": 14},
        "shifts": [{"id": "D", "length_minutes": 480}],
        "staff": [{"id": "A", "max_weekends": 1, "min_total_minutes": 960,
                   "max_total_minutes": 960},
                  {"id": "B", "days_off": list(range(14))}],
        "cover": [{"day": d, "shift_id": "D", "requirement": int(d > 7)}
                  for d in (5, 6, 12, 13)]})


def test_a_week_move_carries_a_weekend_worked_where_no_one_is_needed_to_where_both_days_are(
        ) -> None:
    problem = two_weekends()
    roster = {"A": [None] * 5 + ["D", "D"] + [None] * 7, "B": [None] * 14}
    for shares, want in [((1.0, 0.0, 0.0, 0.0), 202), ((0.0, 0.0, 0.0, 0.0, 0.0, 1.0), 0)]:
        ann = Annealer(problem, roster)
        ann.set_shares(shares)
        ann.run(2_000, 1e-9, 1e-9, 1000.0, 0)  # temperature ~0: only moves that cost nothing
        assert ann.best_objective == want, shares  # (one cell at a time cannot get there)
