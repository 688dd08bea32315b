import time
from pathlib import Path

from actors.solve.checker import check_roster
from actors.solve.colgen import CgState, ColumnPool, Pricer, bound_and_guide, generate
from actors.solve.constraints import ModelFlags, build_model
from actors.solve.lns import Incumbent, LnsWorker
from actors.solve.model import add_hints
from actors.solve.reader import parse_problem_text
from actors.solve.schema import RosterProblem

DATA = Path(__file__).resolve().parents[2] / "data" / "shift_scheduling"
OPTIMUM = {1: 607, 2: 828, 3: 1001}


def instance(number: int) -> RosterProblem:
    return parse_problem_text((DATA / f"Instance{number}.txt").read_text())


def first_roster(problem: RosterProblem) -> Incumbent:
    rm = build_model(problem, ModelFlags(flow=False, windows=False))
    inc = Incumbent()
    LnsWorker(rm, inc, 0, time.monotonic(), lambda m, r: add_hints(rm, r, m))._first(3.0)
    assert inc.roster is not None
    return inc


def converged_pool(problem: RosterProblem) -> tuple[ColumnPool, CgState, Incumbent]:
    inc = first_roster(problem)
    pool = ColumnPool(problem)
    pool.add_roster(inc.roster)
    pricers = [Pricer(problem, e) for e in range(len(problem.staff))]
    state = generate(pool, pricers, time.monotonic() + 60, CgState())
    assert state.converged
    return pool, state, inc


def test_column_generation_converges_to_a_bound_no_higher_than_the_published_optima() -> None:
    for number in (1, 2):
        _, state, _ = converged_pool(instance(number))
        assert 0 < state.bound <= OPTIMUM[number]
        assert state.bound <= state.lp + 1e-6  # the Lagrangian bound never passes the LP


def test_every_generated_column_is_a_schedule_the_checker_accepts() -> None:
    problem = instance(2)
    pool, _, _ = converged_pool(problem)
    assert min(len(cols) for cols in pool.columns) >= 2  # pricing added columns for everyone
    for k in range(max(len(cols) for cols in pool.columns)):
        roster = {}
        for e, st in enumerate(problem.staff):
            col = sorted(pool.columns[e])[k % len(pool.columns[e])]
            roster[st.id] = [None if s < 0 else problem.shifts[s].id for s in col]
        report = check_roster(problem, roster)  # cover is soft: any mix of columns is feasible
        assert report.feasible, report.violations[:3]


def test_a_rosters_reduced_costs_are_never_negative_and_add_up_to_at_most_its_gap() -> None:
    problem = instance(2)
    pool, state, inc = converged_pool(problem)
    costs = pool.roster_reduced_costs(inc.roster, state.solution)
    assert len(costs) == len(problem.staff)
    assert min(costs) > -1e-6  # at the LP optimum no column prices out
    assert sum(costs) <= inc.objective - state.lp + 1e-6  # the cover slacks take the rest


def test_column_generation_lifts_instance_7s_bound_above_the_exact_searchs_951() -> None:
    problem = instance(7)
    inc = first_roster(problem)
    bounds: list[float] = []
    guide = bound_and_guide(problem, inc, time.monotonic() + 40,
                            halt=lambda: bool(bounds) and bounds[-1] > 1000,
                            on_bound=bounds.append)
    assert guide is not None and bounds == sorted(bounds)
    assert all(b == int(b) for b in bounds)  # rounded up: objectives are whole numbers
    assert 951 < bounds[-1] <= 1056  # CP-SAT's max_lp bound stalls at 951; 1056 is optimal
    assert len(guide(inc.roster)) == len(problem.staff)
