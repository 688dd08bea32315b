import itertools

import pytest

from actors.solve.checker import check_roster
from actors.solve.model import solve
from actors.solve.schema import RosterProblem, SolveOptions, SolveStatus

N_ = None


def small_problem(**staff_overrides: object) -> RosterProblem:
    staff = {
        "id": "A", "max_shifts": {"N": 2}, "min_total_minutes": 1920, "max_total_minutes": 3840,
        "max_consecutive_shifts": 4, "min_consecutive_shifts": 2, "min_consecutive_days_off": 2,
        "max_weekends": 1, "days_off": [0],
    }
    staff.update(staff_overrides)
    return RosterProblem.model_validate({
        "horizon": {"days": 14},
        "shifts": [{"id": "D", "length_minutes": 480},
                   {"id": "N", "length_minutes": 480, "cannot_follow": ["D"]}],
        "staff": [staff],
        "shift_on_requests": [{"staff_id": "A", "day": 4, "shift_id": "D", "weight": 3}],
        "shift_off_requests": [{"staff_id": "A", "day": 7, "shift_id": "N", "weight": 5}],
        "cover": [{"day": 1, "shift_id": "D", "requirement": 2},
                  {"day": 2, "shift_id": "D", "requirement": 0}],
    })


VALID = [N_, "D", "D", "D", N_, N_, N_, "N", "N", N_, N_, "D", "D", N_]


def with_days(**changes: str | None) -> list[str | None]:
    days = list(VALID)
    for key, value in changes.items():
        days[int(key[1:])] = value
    return days


def test_valid_roster_is_accepted_with_the_recomputed_objective() -> None:
    report = check_roster(small_problem(), {"A": VALID})
    assert report.feasible, report.violations
    # on-request missed 3, off-request hit 5, day 1 one short 100, day 2 one over 1.
    assert report.penalties.model_dump() == {
        "shift_on_requests": 3, "shift_off_requests": 5, "under_cover": 100, "over_cover": 1}
    assert report.objective == 109


@pytest.mark.parametrize(
    ("problem", "roster", "constraint"),
    [
        (small_problem(), with_days(d0="D"), "days off"),
        (small_problem(), with_days(d8="D"), "shift rotation"),
        (small_problem(), with_days(d11="N", d12="N"), "max shifts per type"),
        (small_problem(max_total_minutes=3000), VALID, "max total minutes"),
        (small_problem(min_total_minutes=3840), VALID, "min total minutes"),
        (small_problem(max_consecutive_shifts=2), VALID, "max consecutive shifts"),
        (small_problem(), with_days(d8=None), "min consecutive shifts"),
        (small_problem(), with_days(d10="D"), "min consecutive days off"),
        (small_problem(), with_days(d6="D"), "max weekends"),
        (small_problem(), with_days(d3="X"), "roster shape"),
        (small_problem(), VALID[:13], "roster shape"),
    ],
)
def test_each_broken_hard_constraint_is_detected_by_name_and_alone(
    problem: RosterProblem, roster: list[str | None], constraint: str
) -> None:
    report = check_roster(problem, {"A": roster})
    assert not report.feasible
    assert {v.constraint for v in report.violations} == {constraint}
    assert all("A" in v.message or v.staff_id == "A" for v in report.violations)


def test_runs_touching_the_horizon_edges_are_exempt_from_the_minimums() -> None:
    roster = with_days(d0=None, d1=None, d2=None, d3=None, d12=None, d13="D")
    roster[1] = "D"  # run of 1 at day 1 is interior: must be flagged
    assert "min consecutive shifts" in {
        v.constraint for v in check_roster(small_problem(), {"A": roster}).violations}
    edge = [N_, N_, N_, N_, N_, N_, N_, "N", "N", N_, N_, "D", "D", "D"]
    edge[13] = "D"
    problem = small_problem(min_consecutive_shifts=4, min_total_minutes=0)
    violations = check_roster(problem, {"A": edge}).violations
    # runs 7-8 and 11-13 are interior/edge: only the interior short run 7-8 is flagged.
    assert [(v.constraint, v.day) for v in violations] == [("min consecutive shifts", 7)]


def test_model_optimum_equals_brute_force_over_every_roster_with_the_checker() -> None:
    problem = RosterProblem.model_validate({
        "horizon": {"days": 8, "start_date": "2024-01-04"},  # a Thursday: weekend on days 2-3
        "shifts": [{"id": "E", "length_minutes": 300, "cannot_follow": []},
                   {"id": "L", "length_minutes": 600, "cannot_follow": ["E"]}],
        "staff": [{"id": "A", "max_shifts": {"L": 3}, "min_total_minutes": 1500,
                   "max_total_minutes": 3000, "max_consecutive_shifts": 3,
                   "min_consecutive_shifts": 2, "min_consecutive_days_off": 2,
                   "max_weekends": 1, "days_off": [5]}],
        "shift_on_requests": [{"staff_id": "A", "day": 2, "shift_id": "L", "weight": 4},
                              {"staff_id": "A", "day": 9 - 3, "shift_id": "E", "weight": 2}],
        "shift_off_requests": [{"staff_id": "A", "day": 1, "shift_id": "E", "weight": 3}],
        "cover": [{"day": d, "shift_id": s, "requirement": 1, "weight_under": w, "weight_over": 1}
                  for d in range(8) for s, w in (("E", 7), ("L", 5))],
    })
    best = None
    for days in itertools.product([None, "E", "L"], repeat=8):
        report = check_roster(problem, {"A": list(days)})
        if report.feasible and (best is None or report.objective < best):
            best = report.objective
    result = solve(problem, SolveOptions(time_limit_s=20, workers=1))
    assert result.status == SolveStatus.OPTIMAL
    assert result.objective == best
