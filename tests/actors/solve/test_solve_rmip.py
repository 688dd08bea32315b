import threading
import time
from pathlib import Path

from actors.solve.checker import check_roster
from actors.solve.colgen import CgState, ColumnPool, columns_of, generate, make_pricers
from actors.solve.construct import construct
from actors.solve.dive import dive
from actors.solve.model import solve
from actors.solve.reader import parse_problem_text
from actors.solve.rmip import RC_CAP, MasterIp, best_from_pool
from actors.solve.schema import RosterProblem, SolveOptions

DATA = Path(__file__).resolve().parents[2] / "data" / "shift_scheduling"


def instance(number: int) -> RosterProblem:
    return parse_problem_text((DATA / f"Instance{number}.txt").read_text())


def converged_pool(problem: RosterProblem):
    """The root LP's pool (from the construction's roster: bounded work, no race against a
    clock) and a dive's roster from it."""
    first = construct(problem, time.monotonic() + 600).roster
    assert first is not None
    pool = ColumnPool(problem)
    pool.add_roster(first)
    pricers = make_pricers(problem)
    state = generate(pool, pricers, time.monotonic() + 60, CgState())
    assert state.converged
    dived = dive(pool, pricers, time.monotonic() + 60)
    assert dived is not None
    return pool, state.solution, dived


def test_the_master_ip_finds_the_optimum_once_its_schedules_are_in_the_pool() -> None:
    problem = instance(3)
    best = solve(problem, SolveOptions(time_limit_s=60, workers=2)).assignments
    assert check_roster(problem, best).objective == 1001
    pool, root, dived = converged_pool(problem)
    pool.add_roster(best)
    start = check_roster(problem, dived).objective
    found = best_from_pool(pool, root, 1001, dived, time.monotonic() + 60)
    assert found is not None
    roster, objective = found
    report = check_roster(problem, roster)
    assert report.feasible and report.objective == objective == 1001 <= start


def test_the_master_ip_keeps_the_columns_near_the_root_lp_and_the_incumbent_s_own() -> None:
    problem = instance(2)
    pool, root, dived = converged_pool(problem)
    ub = check_roster(problem, dived).objective - 1
    ip = MasterIp(pool, root, ub, dived)
    slack = min(ub - root.value, RC_CAP) + 1e-6
    own = columns_of(problem, dived)
    for e, cols in enumerate(pool.columns):
        near = {col for col in cols if pool.reduced_cost(e, col, root) <= slack}
        assert set(ip.z[e]) == near | {own[e]}
    assert 0 < ip.size < sum(len(cols) for cols in pool.columns) + len(own)


def test_below_the_root_lp_the_master_ip_has_no_roster_to_offer() -> None:
    problem = instance(2)
    pool, root, _ = converged_pool(problem)
    assert best_from_pool(pool, root, int(root.value) - 5, None, time.monotonic() + 10) is None


def test_a_stop_from_another_thread_interrupts_the_master_ip_within_seconds() -> None:
    problem = instance(7)
    pool, root, dived = converged_pool(problem)
    ip = MasterIp(pool, root, check_roster(problem, dived).objective - 1, dived)
    timer = threading.Timer(1.0, ip.interrupt)
    timer.start()
    started = time.monotonic()
    ip.solve(30)
    timer.join()
    assert time.monotonic() - started < 5
    solver = ip.solver
    assert solver.Objective().BestBound() < solver.Objective().Value() - 0.5  # not finished
