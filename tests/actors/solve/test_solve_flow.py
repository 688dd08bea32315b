import itertools

from ortools.sat.python import cp_model

from actors.solve.checker import check_roster
from actors.solve.constraints import ModelFlags, build_model
from actors.solve.flow import add_pattern_flow, pattern_hint
from actors.solve.schema import RosterProblem

DAYS = 9


def one_member_problem() -> RosterProblem:
    return RosterProblem.model_validate({
        "horizon": {"days": DAYS},
        "shifts": [{"id": "D", "length_minutes": 60}],
        "staff": [{"id": "A", "max_consecutive_shifts": 3, "min_consecutive_shifts": 2,
                   "min_consecutive_days_off": 2, "max_weekends": 1, "days_off": [2]}],
    })


def feasible(model: cp_model.CpModel) -> bool:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    return solver.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def fix(model: cp_model.CpModel, var: cp_model.IntVar, value: int) -> None:
    model.add(var == value)


def test_pattern_flow_admits_exactly_the_patterns_the_checker_accepts() -> None:
    problem = one_member_problem()
    staff = problem.staff[0]
    valid = 0
    for word in itertools.product([0, 1], repeat=DAYS):
        model = cp_model.CpModel()
        work = [model.new_bool_var(f"w{d}") for d in range(DAYS)]
        arcs = add_pattern_flow(model, staff, work, 0, "f")
        for d, w in enumerate(word):
            fix(model, work[d], w)
        ok = check_roster(problem, {"A": ["D" if w else None for w in word]}).feasible
        assert feasible(model) == ok, word
        if ok:  # the hint of a valid pattern is the one path through the arcs
            valid += 1
            path = pattern_hint(staff, [bool(w) for w in word], 0)
            assert len(path) == DAYS
            for key, arc in arcs.items():
                fix(model, arc, int(key in path))
            assert feasible(model), word
    assert 0 < valid < 2**DAYS


def test_linear_run_encoding_accepts_exactly_the_patterns_the_checker_accepts() -> None:
    problem = one_member_problem()
    flags = ModelFlags(flow=False, windows=False, redundant=False, linear_runs=True)
    for word in itertools.product([0, 1], repeat=DAYS):
        rm = build_model(problem, flags)
        for d, w in enumerate(word):
            fix(rm.model, rm.work[0, d], w)
        ok = check_roster(problem, {"A": ["D" if w else None for w in word]}).feasible
        assert feasible(rm.model) == ok, word


def test_flow_counts_keep_the_days_worked_within_the_minutes() -> None:
    problem = RosterProblem.model_validate({
        "horizon": {"days": DAYS},
        "shifts": [{"id": "D", "length_minutes": 60}],
        "staff": [{"id": "A", "min_total_minutes": 240, "max_total_minutes": 300}],
    })
    model = cp_model.CpModel()
    work = [model.new_bool_var(f"w{d}") for d in range(DAYS)]
    add_pattern_flow(model, problem.staff[0], work, 0, "f", counts=(4, 5))
    for total in range(DAYS + 1):
        trial = model.clone()
        trial.add(sum(work) == total)
        assert feasible(trial) == (4 <= total <= 5), total
