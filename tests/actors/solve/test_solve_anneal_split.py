"""The one-day weekends' shaping cost steers the annealer's moves and never its objective or
its best roster."""

import pytest

from actors.solve.anneal import Annealer, whole_weekends
from actors.solve.checker import check_roster
from actors.solve.plan import Plan
from actors.solve.sa_phase import split
from actors.solve.schema import RosterProblem


def one_member_one_week() -> RosterProblem:
    """A week from a Monday, one member, one shift: Saturday's row asks for one member,
    Sunday's for none (the default weights: 100 under, 1 over): working Sunday costs 1."""
    return RosterProblem.model_validate({
        "horizon": {"days": 7},
        "shifts": [{"id": "D", "length_minutes": 480}],
        "staff": [{"id": "A"}],
        "cover": [{"day": 5, "shift_id": "D", "requirement": 1},
                  {"day": 6, "shift_id": "D", "requirement": 0}]})


def cold(ann: Annealer) -> Annealer:
    ann.run(2_000, 1e-9, 1e-9, 1000.0, 0)  # temperature ~0: only moves that cost nothing
    return ann


@pytest.mark.parametrize("share", [0.0, 0.1])
def test_a_one_day_weekend_costs_moves_a_share_of_a_short_row_and_the_best_follows_the_objective(
        share: float) -> None:
    problem = one_member_one_week()
    ann = Annealer(problem, {"A": [None] * 5 + ["D", None]})
    ann.set_split(share)
    assert ann.split_unit == 100.0  # (the weekend rows' mean weight_under)
    cold(ann)
    saturday, sunday = ann.x[0, 5], ann.x[0, 6]
    assert saturday >= 0  # (leaving Saturday short costs 100, more than any shaping)
    # shaped: Sunday for 1 of objective against 10 of shaping; plain: Sunday stays off
    assert (sunday >= 0) == (share > 0)
    assert ann.objective == check_roster(problem, ann.roster()).objective == (share > 0)
    assert ann.best_roster() == {"A": [None] * 5 + ["D", None]}
    assert ann.best_objective == 0


def test_a_shaping_cost_below_the_objectives_change_moves_nothing() -> None:
    problem = one_member_one_week()
    ann = Annealer(problem, {"A": [None] * 5 + ["D", None]})
    ann.set_split(0.005)  # (0.5 of shaping against 1 of objective)
    cold(ann)
    assert ann.x[0, 6] < 0


def horizon(days: int, start_date: str) -> RosterProblem:
    return RosterProblem.model_validate({
        "horizon": {"days": days, "start_date": start_date},
        "shifts": [{"id": "D", "length_minutes": 480}], "staff": [{"id": "A"}]})


def test_only_weekends_with_both_days_in_the_horizon_are_counted() -> None:
    # two weeks from Sunday 2026-11-29 to a Saturday: its first and last weekends are cut
    assert list(whole_weekends(horizon(14, "2026-11-29"))) == [-1, 6, -1]
    assert list(whole_weekends(horizon(4, "2026-11-30"))) == [-1]  # (Monday to Thursday)


def test_the_shaping_cost_falls_from_the_plans_share_to_zero_over_the_phase() -> None:
    plan = Plan(anneal_split=0.2)
    assert split(plan, 0.0) == pytest.approx(0.2)
    assert split(plan, 0.5) == pytest.approx(0.1)
    assert split(plan, 1.0) == split(plan, 1.5) == 0.0
    assert split(Plan(), 0.0) == 0.0  # (-1: make_plan has not decided)


def test_the_shaping_cost_reaches_zero_by_the_plans_end_share_and_stays_there() -> None:
    plan = Plan(anneal_split=1.0, anneal_split_end=0.5)
    assert split(plan, 0.0) == pytest.approx(1.0)
    assert split(plan, 0.25) == pytest.approx(0.5)
    assert split(plan, 0.5) == split(plan, 0.8) == 0.0
