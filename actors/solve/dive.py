"""Price-and-branch dive: a roster from the column-generation LP.

The master LP of :mod:`actors.solve.colgen` is within a few tenths of a percent of the optimum
on the benchmark (1054.08 against 1056 on Instance 7), so its columns say what a good roster
looks like. The dive fixes members to schedules one step at a time — every member the LP
already gives a whole schedule, else the member whose heaviest schedule weighs most — and
re-runs column generation for the members still free after each step, until everyone is
fixed. With the dynamic-programming pricer a dive takes seconds.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from actors.solve.checker import check_roster
from actors.solve.colgen import CgState, Column, ColumnPool, LpSolution, generate, make_pricers
from actors.solve.constraints import RosterModel
from actors.solve.lns import Incumbent
from actors.solve.schema import Assignments, RosterProblem

WHOLE = 0.999  # an LP value at or above this is a whole schedule
NOISE = 0.3  # dives after the first multiply each pick's weight by up to 1 + NOISE at random


def _pick(sol: LpSolution, fixed: dict[int, Column], rng: random.Random,
          noise: float) -> dict[int, Column]:
    """The members to fix now and their schedules: those the LP already gives one whole
    schedule, or (none) the heaviest fractional pick, its weight jittered by ``noise``."""
    whole = {e: col for e, cols in enumerate(sol.chosen) if e not in fixed
             for col, v in cols.items() if v >= WHOLE}
    if whole:
        return whole
    best, choice = -1.0, None
    for e, cols in enumerate(sol.chosen):
        if e in fixed:
            continue
        for col, v in cols.items():
            score = v * (1 + noise * rng.random())
            if score > best:
                best, choice = score, (e, col)
    assert choice is not None
    return {choice[0]: choice[1]}


def dive(pool: ColumnPool, pricers: list, deadline: float,
         halt: Callable[[], bool] = lambda: False, seed: int = 0,
         noise: float = 0.0) -> Assignments | None:
    """One dive from the pool's current LP; the roster it ends at (None when it ran out of
    time or was halted). The pool is left unfixed, with every column the dive generated."""
    rng = random.Random(seed)
    fixed: dict[int, Column] = {}
    try:
        while len(fixed) < len(pool.problem.staff):
            state = generate(pool, pricers, deadline, CgState(), halt=halt, seed=seed,
                             fixed=fixed)
            if not state.converged or state.solution is None:
                return None
            for e, col in _pick(state.solution, fixed, rng, noise).items():
                fixed[e] = col
                pool.fix(e, col)
    finally:
        pool.unfix()
    return roster_of_columns(pool.problem, [fixed[e] for e in range(len(pool.problem.staff))])


def roster_of_columns(problem: RosterProblem, cols: list[Column]) -> Assignments:
    return {st.id: [None if s < 0 else problem.shifts[s].id for s in col]
            for st, col in zip(problem.staff, cols, strict=True)}


@dataclass
class Phase:
    """What the column-generation phase left: the root LP's bound and the reduced costs that
    guide the LNS (None when the root LP did not finish a round)."""

    bound: float = 0.0
    dives: list[int] = field(default_factory=list)  # each dive's objective (None: unfinished)
    guide: Callable[[Assignments], list[float]] | None = None


def colgen_phase(rm: RosterModel, inc: Incumbent, started: float, dive_until: float,
                 deadline: float, halt: Callable[[], bool],
                 on_bound: Callable[[float], None], seed: int = 0) -> Phase:
    """Column generation from the incumbent's schedules to the root LP (its bounds go to
    ``on_bound``, rounded up), then dives, each roster offered to ``inc``, until
    ``dive_until``: the first follows the LP, later ones jitter the pick (``NOISE``)."""
    phase, problem = Phase(), rm.problem
    with inc.lock:
        roster = inc.roster
    if roster is None:
        return phase
    pool = ColumnPool(problem)
    pool.add_roster(roster)
    pricers = make_pricers(problem)
    state = generate(pool, pricers, deadline, CgState(), halt=halt, seed=seed,
                     on_bound=lambda b: on_bound(float(math.ceil(b - 1e-6))))
    root = state.solution
    if root is None:
        return phase
    phase.bound = state.bound
    phase.guide = lambda r: pool.roster_reduced_costs(r, root)
    k = 0
    while state.converged and not halt() and time.monotonic() < dive_until:
        found = dive(pool, pricers, dive_until, halt=halt, seed=seed + k,
                     noise=NOISE if k else 0.0)
        if found is None:
            break
        report = check_roster(problem, found)
        phase.dives.append(report.objective)
        inc.offer(rm, found, report.objective, "dive", time.monotonic() - started)
        k += 1
    return phase
