import time
from pathlib import Path
from types import SimpleNamespace

from ortools.sat.python import cp_model

import actors.solve.fixing as fixing_module
from actors.solve.checker import check_roster
from actors.solve.colgen import CgState, ColumnPool, columns_of, generate, make_pricers
from actors.solve.constraints import ModelFlags, build_model
from actors.solve.construct import construct
from actors.solve.fixing import apply_fixing, reduced_cost_fixing
from actors.solve.model import solve
from actors.solve.reader import parse_problem_text
from actors.solve.schema import RosterProblem, SolveOptions

DATA = Path(__file__).resolve().parents[2] / "data" / "shift_scheduling"


def instance(number: int) -> RosterProblem:
    return parse_problem_text((DATA / f"Instance{number}.txt").read_text())


def root_of(problem: RosterProblem, roster) -> tuple[ColumnPool, list, CgState]:
    pool = ColumnPool(problem)
    pool.add_roster(roster)
    pricers = make_pricers(problem)
    state = generate(pool, pricers, time.monotonic() + 60, CgState())
    assert state.converged
    return pool, pricers, state


def restricted_solve(problem: RosterProblem, fixing) -> tuple[int, cp_model.CpSolver]:
    rm = build_model(problem, ModelFlags())
    apply_fixing(rm, fixing)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 60
    solver.parameters.num_workers = 1
    return solver.solve(rm.model), solver


def test_reduced_cost_fixing_never_bans_a_cell_of_an_optimal_roster_and_bans_many() -> None:
    problem = instance(3)
    best = solve(problem, SolveOptions(time_limit_s=60, workers=2)).assignments
    assert check_roster(problem, best).objective == 1001
    pool, pricers, state = root_of(problem, best)
    fixing = reduced_cost_fixing(pool, pricers, state.solution, 1001)
    assert fixing is not None and abs(fixing.bound - state.lp) < 1e-3
    cells = len(problem.staff) * problem.horizon.days * (len(problem.shifts) + 1)
    assert fixing.share(cells) > 0.3
    used = {(e, d, s) for e, col in enumerate(columns_of(problem, best))
            for d, s in enumerate(col)}
    assert not used & set(fixing.banned)


def test_reduced_cost_fixing_gives_up_when_its_pace_would_pass_the_time_it_is_given(
        monkeypatch) -> None:
    problem = instance(2)
    pool, pricers, state = root_of(problem, construct(problem, time.monotonic() + 600).roster)
    ticks = iter(range(1000))  # a clock that moves 1 s each time it is read
    monkeypatch.setattr(fixing_module, "time", SimpleNamespace(monotonic=lambda: next(ticks)))
    members = len(problem.staff)  # one member takes 1 s at this clock: all of them, `members`
    assert reduced_cost_fixing(pool, pricers, state.solution, 828, until=members - 2) is None
    done = reduced_cost_fixing(pool, pricers, state.solution, 828, until=members + 2)
    assert done is not None and done.banned


def test_a_model_restricted_below_the_optimum_is_infeasible_and_at_it_finds_the_optimum(
) -> None:
    problem = instance(2)
    best = solve(problem, SolveOptions(time_limit_s=60, workers=2)).assignments
    pool, pricers, state = root_of(problem, best)
    below = reduced_cost_fixing(pool, pricers, state.solution, 827)
    code, _ = restricted_solve(problem, below)
    assert code == cp_model.INFEASIBLE
    at = reduced_cost_fixing(pool, pricers, state.solution, 828)
    code, solver = restricted_solve(problem, at)
    assert code == cp_model.OPTIMAL and round(solver.objective_value) == 828


def test_the_solve_restarts_its_exact_search_below_the_dive_with_a_valid_bound(caplog) -> None:
    import logging

    caplog.set_level(logging.DEBUG, logger="actors.solve.model")
    problem = instance(5)
    result = solve(problem, SolveOptions(time_limit_s=20, workers=2))
    assert "exact search restarts below" in caplog.text
    assert check_roster(problem, result.assignments).objective == result.objective
    assert result.best_bound <= 1143 <= result.objective  # the published optimum
