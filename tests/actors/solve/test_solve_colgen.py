import time
from pathlib import Path
from types import SimpleNamespace

import actors.solve.dive as dive_module
from actors.solve.checker import check_roster
from actors.solve.colgen import (
    CgState,
    ColumnPool,
    clipped_duals,
    columns_of,
    generate,
    make_pricers,
)
from actors.solve.constraints import ModelFlags, build_model
from actors.solve.construct import construct
from actors.solve.dive import colgen_phase, dive, hurried, repair
from actors.solve.hints import add_hints
from actors.solve.lns import Incumbent, LnsWorker
from actors.solve.reader import parse_problem_text
from actors.solve.schema import Assignments, RosterProblem

DATA = Path(__file__).resolve().parents[2] / "data" / "shift_scheduling"
OPTIMUM = {1: 607, 2: 828, 3: 1001}


def instance(number: int) -> RosterProblem:
    return parse_problem_text((DATA / f"Instance{number}.txt").read_text())


def first_roster(problem: RosterProblem) -> Incumbent:
    """The construction's roster: bounded work (a greedy pass and sweeps to a local optimum),
    the same on a loaded machine as on a quiet one."""
    built = construct(problem, time.monotonic() + 600)
    inc = Incumbent()
    assert inc.offer(problem, built.roster, None, "construct", 0.0)
    return inc


def converged_pool(problem: RosterProblem) -> tuple[ColumnPool, CgState, Incumbent]:
    inc = first_roster(problem)
    pool = ColumnPool(problem)
    pool.add_roster(inc.roster)
    pricers = make_pricers(problem)
    state = generate(pool, pricers, time.monotonic() + 60, CgState())
    assert state.converged
    return pool, state, inc


def test_column_generation_converges_to_a_bound_no_higher_than_the_published_optima() -> None:
    for number in (1, 2):
        _, state, _ = converged_pool(instance(number))
        assert 0 < state.bound <= OPTIMUM[number]
        assert state.bound <= state.lp + 1e-6  # the Lagrangian bound never passes the LP


def assert_every_column_is_valid(problem, pool) -> None:  # noqa: ANN001
    """Rosters made of every member's k-th column, for every k: each passes the checker."""
    for k in range(max(len(cols) for cols in pool.columns)):
        roster = {}
        for e, st in enumerate(problem.staff):
            col = sorted(pool.columns[e])[k % len(pool.columns[e])]
            roster[st.id] = [None if s < 0 else problem.shifts[s].id for s in col]
        report = check_roster(problem, roster)  # cover is soft: any mix of columns is feasible
        assert report.feasible, report.violations[:3]


def test_every_generated_column_is_a_schedule_the_checker_accepts() -> None:
    problem = instance(2)
    pool, _, _ = converged_pool(problem)
    assert min(len(cols) for cols in pool.columns) >= 2  # pricing added columns for everyone
    assert_every_column_is_valid(problem, pool)


def test_a_rosters_reduced_costs_are_never_negative_and_add_up_to_at_most_its_gap() -> None:
    problem = instance(2)
    pool, state, inc = converged_pool(problem)
    costs = pool.roster_reduced_costs(inc.roster, state.solution)
    assert len(costs) == len(problem.staff)
    assert min(costs) > -1e-6  # at the LP optimum no column prices out
    assert sum(costs) <= inc.objective - state.lp + 1e-6  # the cover slacks take the rest


def test_the_column_generation_phase_lifts_instance_7s_bound_above_the_exact_searchs_951(
) -> None:
    problem = instance(7)
    inc = first_roster(problem)
    rm = build_model(problem, ModelFlags(flow=False, windows=False))
    bounds: list[float] = []
    now = time.monotonic()
    phase = colgen_phase(rm, inc, now, now, now + 40, halt=lambda: False,
                         on_bound=bounds.append)
    assert phase.guide is not None and bounds == sorted(bounds)
    assert all(b == int(b) for b in bounds)  # rounded up: objectives are whole numbers
    assert 951 < bounds[-1] <= 1056  # CP-SAT's max_lp bound stalls at 951; 1056 is optimal
    assert phase.dive is not None and phase.dive >= bounds[-1]  # (no time for a dive step:
    # the root LP's completion, each member on their heaviest schedule)
    assert len(phase.guide(inc.roster)) == len(problem.staff)


def test_a_dive_from_the_root_lp_reaches_instance_3s_optimum_and_the_incumbent_takes_it(
) -> None:
    problem = instance(3)
    inc = first_roster(problem)
    assert inc.objective > OPTIMUM[3]
    rm = build_model(problem, ModelFlags(flow=False, windows=False))
    now = time.monotonic()
    phase = colgen_phase(rm, inc, now, now + 60, now + 120, halt=lambda: False,
                         on_bound=lambda b: None)  # (far deadlines: not cut on a slow machine)
    assert phase.dive == OPTIMUM[3]
    assert inc.objective == OPTIMUM[3] and inc.source == "dive"
    assert check_roster(problem, inc.roster).objective == OPTIMUM[3]


def test_a_dive_leaves_every_column_it_generated_in_the_pool_unfixed() -> None:
    problem = instance(2)
    pool, _, _ = converged_pool(problem)
    pricers = make_pricers(problem)
    roster = dive(pool, pricers, time.monotonic() + 30)
    assert roster is not None and check_roster(problem, roster).feasible
    assert pool.solve_lp().value <= OPTIMUM[2] + 1e-6  # nothing left fixed: the LP is back


def test_a_dive_fixes_more_members_a_step_only_when_its_pace_would_miss_its_deadline(
) -> None:
    # (batch, members left, seconds the last step took, seconds left)
    assert hurried(1, 10, 2.0, 100.0) == 1  # 50 more steps fit: one member a step
    assert hurried(2, 10, 1.0, 1000.0) == 2  # never fewer than the batch
    assert hurried(1, 10, 10.0, 35.0) == 4  # 3 more steps fit: 10 members in 3 steps
    assert hurried(1, 10, 10.0, 15.0) == 10  # one more step at most: all of them now


def test_a_dive_that_fixes_every_member_at_once_ends_at_a_valid_roster(monkeypatch) -> None:
    problem = instance(7)  # (a fractional root LP: 1054.08 against an optimum of 1056)
    pool, state, _ = converged_pool(problem)
    asked: list[int] = []

    def all_now(batch: int, left: int, took: float, time_left: float) -> int:
        asked.append(left)
        return left

    monkeypatch.setattr(dive_module, "hurried", all_now)
    roster = dive(pool, make_pricers(problem), time.monotonic() + 600, hurry=True)
    assert roster is not None and check_roster(problem, roster).feasible
    assert len(asked) == 1 and 0 < asked[0] < len(problem.staff)  # (the second step: all)
    assert abs(pool.solve_lp().value - state.lp) < 1e-4  # nothing left fixed: the root LP


def test_a_dive_that_may_hurry_but_keeps_pace_ends_at_a_valid_roster() -> None:
    problem = instance(2)
    pool, _, _ = converged_pool(problem)
    roster = dive(pool, make_pricers(problem), time.monotonic() + 600, hurry=True)
    assert roster is not None and check_roster(problem, roster).feasible


def test_a_repair_move_keeps_everyone_outside_it_and_returns_a_valid_roster() -> None:
    problem = instance(5)
    inc = first_roster(problem)
    pool = ColumnPool(problem)
    pool.add_roster(inc.roster)
    pricers = make_pricers(problem)
    generate(pool, pricers, time.monotonic() + 30, CgState())
    free = list(range(0, len(problem.staff), 2))
    roster = repair(pool, pricers, inc.roster, free, time.monotonic() + 30, seed=1)
    assert roster is not None and check_roster(problem, roster).feasible
    kept = [st.id for e, st in enumerate(problem.staff) if e not in free]
    assert all(roster[sid] == inc.roster[sid] for sid in kept)
    assert check_roster(problem, roster).objective < inc.objective  # the LP re-plans well


def test_a_rebuilt_master_lp_keeps_every_column_and_every_fixed_member() -> None:
    problem = instance(2)
    pool, state, inc = converged_pool(problem)
    counts = [len(cols) for cols in pool.columns]
    cols = columns_of(problem, inc.roster)
    pool.fix(0, cols[0])
    fixed_value = pool.solve_lp().value
    pool.rebuild()
    assert [len(c) for c in pool.columns] == counts
    rebuilt = pool.solve_lp()
    assert abs(rebuilt.value - fixed_value) < 1e-6 and rebuilt.chosen[0] == {cols[0]: 1.0}
    pool.unfix()
    assert abs(pool.solve_lp().value - state.lp) < 1e-6


class RecordingPricer:
    """A real pricer that records, per master LP solve, which members it priced."""

    def __init__(self, pricer: object, e: int, priced: dict[int, set[int]],
                 solves: list[int]) -> None:
        self.pricer, self.e, self.priced, self.solves = pricer, e, priced, solves

    def price(self, weights: dict, limit_s: float, seed: int, **kw: float) -> tuple:
        self.priced.setdefault(self.solves[0], set()).add(self.e)
        return self.pricer.price(weights, limit_s, seed, **kw)  # type: ignore[attr-defined]


def partial_root(problem: RosterProblem, chunk: int) -> tuple[CgState, dict, list[int],
                                                               ColumnPool]:
    """Partial pricing to convergence (bounded by convergence, not by time), recording the
    master LP solve each pricing and each bound came under."""
    inc = first_roster(problem)
    pool = ColumnPool(problem)
    pool.add_roster(inc.roster)
    solves, priced, bound_at = [0], {}, []
    solve_lp = pool.solve_lp

    def counted() -> object:
        solves[0] += 1
        return solve_lp()

    pool.solve_lp = counted  # type: ignore[method-assign]
    pricers = [RecordingPricer(p, e, priced, solves)
               for e, p in enumerate(make_pricers(problem))]
    state = generate(pool, pricers, time.monotonic() + 600, CgState(),  # type: ignore[arg-type]
                     on_bound=lambda b: bound_at.append(solves[0]), chunk=chunk)
    assert state.converged
    return state, priced, bound_at, pool


def test_partial_pricing_takes_a_bound_only_after_a_round_that_priced_every_member() -> None:
    problem = instance(5)
    state, priced, bound_at, _ = partial_root(problem, chunk=2)
    everyone = set(range(len(problem.staff)))
    assert state.partial > 0 and state.partial < state.rounds  # chunks, then full rounds
    assert any(members != everyone for members in priced.values())
    assert bound_at and all(priced[k] == everyone for k in bound_at)
    assert state.bound <= state.lp + 1e-6


def test_partial_pricing_converges_to_the_master_lp_of_full_rounds_with_the_same_bound(
) -> None:
    problem = instance(2)
    _, full, _ = converged_pool(problem)
    state, _, _, _ = partial_root(problem, chunk=3)
    assert abs(state.lp - full.lp) < 1e-6  # one master LP optimum, whichever columns led there
    assert abs(state.bound - full.bound) < 1e-4 and state.bound <= OPTIMUM[2]


def test_every_column_of_a_partial_pricing_round_is_a_schedule_the_checker_accepts() -> None:
    problem = instance(5)
    _, _, _, pool = partial_root(problem, chunk=2)
    assert_every_column_is_valid(problem, pool)


def test_a_dive_with_partial_pricing_ends_at_a_valid_roster() -> None:
    problem = instance(2)
    pool, _, _ = converged_pool(problem)
    roster = dive(pool, make_pricers(problem), time.monotonic() + 600, chunk=2)
    assert roster is not None and check_roster(problem, roster).feasible
    assert check_roster(problem, roster).objective >= OPTIMUM[2]


def light_worker(problem: RosterProblem) -> LnsWorker:
    """An LNS worker on the light model; its CP-SAT solves are bounded by work, not time."""
    rm = build_model(problem, ModelFlags(flow=False, windows=False))
    worker = LnsWorker(rm, Incumbent(), 0, time.monotonic(), lambda m, r: add_hints(rm, r, m))
    worker.det_limit = 5.0
    return worker


def test_a_dive_hands_its_last_free_members_to_cp_sat_and_ends_with_what_it_finds() -> None:
    problem = instance(7)  # (a fractional root LP: the first step fixes some members only)
    pool, _, _ = converged_pool(problem)
    worker, calls = light_worker(problem), []

    def finish(start: Assignments, free: list[int], deadline: float) -> Assignments | None:
        calls.append((start, free))
        return worker.complete(start, free, deadline)

    n_staff = len(problem.staff)
    roster = dive(pool, make_pricers(problem), time.monotonic() + 600, finish=finish,
                  finish_at=n_staff - 1)
    assert len(calls) == 1
    start, free = calls[0]
    assert 0 < len(free) < n_staff and check_roster(problem, start).feasible
    report = check_roster(problem, roster)
    assert report.feasible and report.objective <= check_roster(problem, start).objective
    kept = [st.id for e, st in enumerate(problem.staff) if e not in free]
    assert all(roster[sid] == start[sid] for sid in kept)


def test_a_dive_keeps_its_reserve_for_the_finish_when_a_step_would_run_past_it(
        monkeypatch) -> None:
    problem = instance(7)  # (a fractional root LP: the dive needs steps)
    pool, _, _ = converged_pool(problem)
    clock, asked, calls = [0.0], [], []

    def slow_step(pool, pricers, deadline, state, **kw):  # noqa: ANN001, ANN003, ANN202
        asked.append(deadline)  # the step's column generation, then its clock runs past it
        done = generate(pool, pricers, time.monotonic() + 600, state, **kw)
        clock[0] = 75.0
        return done

    def finish(start: Assignments, free: list[int], deadline: float) -> Assignments | None:
        calls.append((start, free, deadline))
        return start

    monkeypatch.setattr(dive_module, "generate", slow_step)
    monkeypatch.setattr(dive_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    roster = dive(pool, make_pricers(problem), 100.0, hurry=True, finish=finish, finish_at=1,
                  reserve=30.0)
    assert asked == [70.0]  # the steps stop 30 s before the dive's deadline ...
    assert len(calls) == 1  # ... and the finish gets those 30 s, with every member free
    start, free, deadline = calls[0]
    assert deadline == 100.0 and free == list(range(len(problem.staff)))
    assert roster == start and check_roster(problem, roster).feasible
    asked.clear()
    clock[0] = 0.0
    dive(pool, make_pricers(problem), 100.0, hurry=True, reserve=30.0)  # no finish: no reserve
    assert asked[0] == 100.0


def test_a_dive_with_no_time_left_before_its_reserve_finishes_the_lp_it_starts_from(
        monkeypatch) -> None:
    problem = instance(7)
    pool, state, _ = converged_pool(problem)
    calls = []

    def finish(start: Assignments, free: list[int], deadline: float) -> Assignments | None:
        calls.append((free, deadline))
        return start

    monkeypatch.setattr(dive_module, "generate", lambda *a, **kw: CgState())  # (no LP solved)
    monkeypatch.setattr(dive_module, "time", SimpleNamespace(monotonic=lambda: 80.0))
    roster = dive(pool, make_pricers(problem), 100.0, hurry=True, finish=finish, finish_at=1,
                  reserve=30.0, start=state.solution)
    assert calls == [(list(range(len(problem.staff))), 100.0)]
    assert roster is not None and check_roster(problem, roster).feasible


def completed_from_greedy(group: int) -> tuple[LnsWorker, Assignments | None]:
    """Every second member of Instance 5 re-planned from its greedy roster (poor) with
    ``group`` members a step (0: one solve); asserts the others keep their schedules and the
    roster is valid and beats the start."""
    problem = instance(5)
    start = construct(problem, time.monotonic() + 600, max_sweeps=0).roster
    free = list(range(0, len(problem.staff), 2))
    worker = light_worker(problem)
    worker.finish_group = group
    found = worker.complete(start, free, time.monotonic() + 600)
    assert found is not None and check_roster(problem, found).feasible
    assert check_roster(problem, found).objective < check_roster(problem, start).objective
    kept = [st.id for e, st in enumerate(problem.staff) if e not in free]
    assert all(found[sid] == start[sid] for sid in kept)
    return worker, found


def test_completing_members_a_few_at_a_time_keeps_everyone_else_and_beats_the_start() -> None:
    worker, found = completed_from_greedy(3)
    assert worker.steps > 1  # (a step per group of three, until a stall or the deadline)
    # every better roster went to the incumbent as it came: it holds the last, as "dive"
    assert worker.inc.source == "dive"
    assert worker.inc.objective == check_roster(worker.rm.problem, found).objective


def test_completing_members_in_one_solve_keeps_everyone_else_and_beats_the_start() -> None:
    worker, found = completed_from_greedy(0)  # (Plan.dive_finish_group 0)
    assert worker.steps == 1 and worker.inc.source == "dive"
    assert worker.inc.objective == check_roster(worker.rm.problem, found).objective


def test_completing_members_without_a_source_leaves_the_incumbent_alone() -> None:
    problem = instance(5)
    start = construct(problem, time.monotonic() + 600, max_sweeps=0).roster
    worker = light_worker(problem)
    found = worker.complete(start, [0, 2, 4, 6, 8, 10], time.monotonic() + 600, source="")
    assert found is not None and worker.inc.roster is None


class NoThreshold:
    """A real pricer asked for its k cheapest schedules whatever they cost (the pricing of
    before ``ColumnPool.pays_below``), counting the calls that found no column."""

    def __init__(self, pricer: object, empty: list[int]) -> None:
        self.pricer, self.empty = pricer, empty

    def price(self, weights: dict, limit_s: float, seed: int, below: float = 0.0) -> tuple:
        out = self.pricer.price(weights, limit_s, seed)  # type: ignore[attr-defined]
        self.empty[0] += not out[0]
        return out


def test_pricing_only_what_prices_out_reaches_the_same_master_lp_and_bound() -> None:
    problem = instance(2)
    inc = first_roster(problem)
    states, empty = [], [0]
    for wrap in (False, True):
        pool = ColumnPool(problem)
        pool.add_roster(inc.roster)
        pricers = make_pricers(problem)
        if wrap:
            pricers = [NoThreshold(p, empty) for p in pricers]  # type: ignore[misc]
        states.append(generate(pool, pricers, time.monotonic() + 600, CgState()))
        if not wrap:  # the last round under a threshold finds nothing for anyone
            assert all(not p.price(pool.weights(e, clipped_duals(problem, pool.solve_lp())),
                                   0.0, 0, below=pool.pays_below(e, pool.solve_lp()))[0]
                       for e, p in enumerate(pricers))
    cut, full = states
    assert cut.converged and full.converged and empty[0] == 0  # (without it, never empty)
    assert abs(cut.lp - full.lp) < 1e-6  # one master LP optimum
    assert abs(cut.bound - full.bound) < 1e-4 and cut.bound <= OPTIMUM[2]
