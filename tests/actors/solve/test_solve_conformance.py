"""Conformance: on random problems that use every schema field, every phase's rosters pass the
independent checker and every phase agrees on the objective (docs/solver.md, "The objective")."""

import math
import time

import numpy as np
import pytest
from ortools.sat.python import cp_model

from actors.solve.anneal import Annealer
from actors.solve.checker import check_roster
from actors.solve.colgen import CgState, ColumnPool, Pricer, generate, make_pricers
from actors.solve.constraints import ModelFlags, build_model
from actors.solve.construct import construct
from actors.solve.dive import dive
from actors.solve.hints import add_hints
from actors.solve.lns import Incumbent, LnsWorker, roster_of
from actors.solve.model import solve
from actors.solve.pricing import DpPricer
from actors.solve.rmip import best_from_pool
from actors.solve.schema import RosterProblem, SolveOptions, SolveStatus
from tests.actors.solve.random_problems import random_problem

SEEDS = range(12)
LONG = time.monotonic() + 10**6  # no deadline: the work is bounded by the phases themselves


def optimum(problem: RosterProblem) -> int | None:
    """The exact optimum by CP-SAT on the full model (None: infeasible)."""
    rm = build_model(problem)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 120  # a safety net: these solve in well under 1 s
    code = solver.solve(rm.model)
    assert code in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
    if code == cp_model.INFEASIBLE:
        return None
    roster = roster_of(rm, solver.boolean_value)
    report = check_roster(problem, roster)
    assert report.feasible, report.violations[:3]
    assert report.objective == round(solver.objective_value)  # model and checker agree
    return report.objective


@pytest.mark.parametrize("seed", SEEDS)
def test_every_phase_gives_checker_valid_rosters_that_agree_on_the_objective(seed: int) -> None:
    problem = random_problem(seed)
    best = optimum(problem)
    seen: list[int] = []
    built = construct(problem, LONG, seed=seed, on_roster=lambda r, obj: seen.append(obj))
    if best is None:  # no roster: the construction proves it for some member
        assert built.roster is None and built.infeasible
        result = solve(problem, SolveOptions(time_limit_s=60, workers=2))
        assert result.status == SolveStatus.INFEASIBLE and result.conflicts
        return
    assert built.roster is not None and not built.infeasible
    assert check_roster(problem, built.roster).objective == built.objective >= best
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen)

    pool = ColumnPool(problem)
    pool.add_roster(built.roster)
    pricers = make_pricers(problem)
    state = generate(pool, pricers, LONG, CgState())
    assert state.converged and state.bound <= best + 1e-6
    partial = ColumnPool(problem)  # partial pricing: members two at a time per LP solve
    partial.add_roster(built.roster)
    chunked = generate(partial, pricers, LONG, CgState(), chunk=2)
    assert chunked.converged and chunked.bound <= best + 1e-6
    assert abs(chunked.lp - state.lp) <= 1e-3 * max(1.0, abs(state.lp))  # the same master LP
    dived = dive(pool, pricers, LONG)
    assert dived is not None
    dive_report = check_roster(problem, dived)
    assert dive_report.feasible and dive_report.objective >= best
    found = best_from_pool(pool, state.solution, dive_report.objective, dived, LONG)
    if found is not None:
        assert check_roster(problem, found[0]).feasible
        assert check_roster(problem, found[0]).objective == found[1] >= best

    rm = build_model(problem, ModelFlags(flow=False, windows=False))
    inc = Incumbent()
    assert inc.offer(problem, built.roster, None, "construct", 0.0)
    LnsWorker(rm, inc, seed, time.monotonic(), lambda m, r: add_hints(rm, r, m)).run(
        LONG, max_steps=20)
    assert not inc.rejected and check_roster(problem, inc.roster).objective == inc.objective
    assert best <= inc.objective <= built.objective

    ann = Annealer(problem, built.roster)
    ann.run(20_000, 5.0, 0.3, 300.0, seed)
    annealed = check_roster(problem, ann.best_roster())
    assert annealed.feasible and best <= annealed.objective == ann.best_objective

    result = solve(problem, SolveOptions(time_limit_s=60, workers=2, seed=seed))
    assert result.status == SolveStatus.OPTIMAL and result.objective == best
    assert result.checked.feasible and result.checked.objective == best


@pytest.mark.parametrize("seed", SEEDS)
def test_the_dp_pricer_and_the_cp_sat_pricer_agree_and_a_beam_gives_valid_schedules(
        seed: int) -> None:
    problem = random_problem(seed)
    rng = np.random.default_rng(seed)
    days, n_shifts = problem.horizon.days, len(problem.shifts)
    for e, member in enumerate(problem.staff):
        w = rng.integers(-100, 20, size=(days, n_shifts)).astype(float)
        weights = {(d, s): float(w[d, s]) for d in range(days) for s in range(n_shifts)}
        dp_cols, dp_low, _ = DpPricer(problem, e).price(weights)
        cp_cols, cp_low, proved = Pricer(problem, e).price(weights, 60.0, 0)
        assert proved or not cp_cols
        if not dp_cols:
            assert not cp_cols
            continue
        assert math.isclose(dp_low, cp_low, abs_tol=1e-6)
        single = problem.model_copy(update={"staff": [member], "cover": [],
                                            "shift_on_requests": [], "shift_off_requests": []})
        for beam in (1, 2):
            cols, _, exact = DpPricer(problem, e).price_matrix(w, 1, beam=beam)
            assert not exact
            for col in cols:
                roster = {member.id: [None if s < 0 else problem.shifts[s].id for s in col]}
                assert check_roster(single, roster).feasible


def test_the_random_problems_use_every_field_of_the_schema() -> None:
    problems = [random_problem(seed) for seed in SEEDS]
    used = set()
    for p in problems:
        data = p.model_dump(exclude_defaults=True)
        used |= {f"problem.{k}" for k in data}
        used |= {f"horizon.{k}" for k in data["horizon"]}
        for part in ("shifts", "staff", "cover", "shift_on_requests", "shift_off_requests"):
            for row in data.get(part, []):
                used |= {f"{part}.{k}" for k in row}
    expected = {f"problem.{k}" for k in RosterProblem.model_fields}
    expected |= {f"horizon.{k}" for k in RosterProblem.model_fields["horizon"].annotation
                 .model_fields}
    for part in ("shifts", "staff", "cover", "shift_on_requests", "shift_off_requests"):
        model = RosterProblem.model_fields[part].annotation.__args__[0]
        expected |= {f"{part}.{k}" for k in model.model_fields}
    assert expected <= used, expected - used
