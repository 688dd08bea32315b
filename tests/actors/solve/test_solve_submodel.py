"""The LNS's compact sub-models (actors/solve/submodel.py) against the whole model with the
same cells fixed, and against the checker, on random problems that use every schema field."""

import random
import time

import pytest
from ortools.sat.python import cp_model

from actors.solve.checker import check_roster
from actors.solve.constraints import ModelFlags, build_model
from actors.solve.construct import construct
from actors.solve.hints import add_hints
from actors.solve.lns import _fixed_copy
from actors.solve.submodel import Index, build_sub, roster_of_sub
from tests.actors.solve.random_problems import random_problem

SEEDS = range(12)
LONG = time.monotonic() + 10**6


def solved(model: cp_model.CpModel) -> tuple[int, cp_model.CpSolver]:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 60  # a safety net: these close in milliseconds
    code = solver.solve(model)
    assert code == cp_model.OPTIMAL
    return round(solver.objective_value), solver


@pytest.mark.parametrize("seed", SEEDS)
def test_a_sub_model_has_the_optimum_of_the_whole_model_with_the_same_cells_fixed(
        seed: int) -> None:
    problem = random_problem(seed)
    built = construct(problem, LONG, seed=seed, max_sweeps=0)
    if built.roster is None:  # an infeasible draw: nothing to re-solve
        return
    rm = build_model(problem, ModelFlags(flow=False, windows=False, symmetry=False))
    ix = Index(problem)
    table = ix.table(built.roster)
    rng = random.Random(seed)
    staff, days = len(problem.staff), problem.horizon.days
    shapes = [{(e, d) for e in range(staff) for d in range(days)}]  # everything free
    for _ in range(6):  # a few members x a few (not necessarily adjacent) days
        members = rng.sample(range(staff), rng.randint(1, staff))
        chosen = rng.sample(range(days), rng.randint(1, days))
        shapes.append({(e, d) for e in members for d in chosen})
    for free in shapes:
        sub = build_sub(ix, table, free, built.objective, None)
        assert sub.offset + sub.current == built.objective
        value, solver = solved(sub.model)
        whole, _ = solved(_fixed_copy(rm, built.roster, free, lambda m, r: add_hints(rm, r, m)))
        assert sub.offset + value == whole <= built.objective
        report = check_roster(problem, roster_of_sub(ix, sub, table, free, solver))
        assert report.feasible and report.objective == whole


def test_a_cutoff_below_the_roster_makes_a_sub_model_infeasible_at_the_optimum() -> None:
    problem = random_problem(3)
    built = construct(problem, LONG, seed=3)
    ix = Index(problem)
    table = ix.table(built.roster)
    free = {(e, d) for e in range(len(problem.staff)) for d in range(problem.horizon.days)}
    unbounded = build_sub(ix, table, free, built.objective, None)
    value, _ = solved(unbounded.model)
    sub = build_sub(ix, table, free, built.objective, cutoff=unbounded.offset + value - 1)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(sub.model) == cp_model.INFEASIBLE
