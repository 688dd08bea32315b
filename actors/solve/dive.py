"""Price-and-branch dive: a roster from the column-generation LP.

The master LP of :mod:`actors.solve.colgen` is within a few tenths of a percent of the optimum
on the benchmark (1054.08 against 1056 on Instance 7), so its columns say what a good roster
looks like. The dive fixes members to schedules one step at a time — every member the LP
already gives a whole schedule, else the member whose heaviest schedule weighs most — and
re-runs column generation for the members still free after each step, until everyone is
fixed. With the dynamic-programming pricer a dive takes seconds.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import partial

from actors.solve.checker import check_roster
from actors.solve.colgen import (
    CgState,
    Column,
    ColumnPool,
    LpSolution,
    columns_of,
    generate,
    make_pricers,
    roster_of_columns,
)
from actors.solve.constraints import RosterModel
from actors.solve.fixing import Fixing, reduced_cost_fixing
from actors.solve.incumbent import Incumbent
from actors.solve.rmip import best_from_pool
from actors.solve.schema import Assignments, RosterProblem

log = logging.getLogger(__name__)
WHOLE = 0.999  # an LP value at or above this is a whole schedule


def _pick(sol: LpSolution, fixed: dict[int, Column],
          rng: random.Random | None = None, batch: int = 1) -> dict[int, Column]:
    """The members to fix now and their schedules: those the LP already gives one whole
    schedule, or (none) the ``batch`` heaviest fractional picks of distinct members — with
    ``rng``, one pick drawn with probability in proportion to its weight (repair moves: the
    same LP rounds differently)."""
    whole = {e: col for e, cols in enumerate(sol.chosen) if e not in fixed
             for col, v in cols.items() if v >= WHOLE}
    if whole:
        return whole
    picks = [((e, col), v) for e, cols in enumerate(sol.chosen) if e not in fixed
             for col, v in cols.items()]
    if rng is not None:
        (e, col), _ = rng.choices(picks, weights=[v for _, v in picks])[0]
        return {e: col}
    out: dict[int, Column] = {}
    for (e, col), _ in sorted(picks, key=lambda pick: -pick[1]):
        if e not in out:
            out[e] = col
            if len(out) >= batch:
                break
    return out


Finish = Callable[[Assignments, list[int], float], "Assignments | None"]


def dive(pool: ColumnPool, pricers: list, deadline: float,
         halt: Callable[[], bool] = lambda: False, seed: int = 0, randomize: bool = False,
         fixed: dict[int, Column] | None = None, batch: int = 1,
         chunk: int = 0, hurry: bool = False, finish: Finish | None = None,
         finish_at: int = 0, reserve: float = 0.0,
         start: LpSolution | None = None) -> Assignments | None:
    """One dive from the pool's current LP (members in ``fixed`` already fixed in the pool);
    the roster it ends at (None when it ran out of time or was halted). Column generation
    re-converges after each fix (``chunk``: partial pricing, :func:`generate`). With
    ``hurry`` it ends with a roster whenever it has an LP: it fixes more members a step when,
    at the pace of its last step, it would not end by ``deadline`` (:func:`hurried`), and at
    the deadline every member still free takes their heaviest schedule in the last LP. With
    ``finish``, once at most ``finish_at`` members are free (or when hurrying would fix them
    all at once), ``finish(start, free, deadline)`` re-plans them (CP-SAT, the others fixed)
    from ``start``, that same completion, and the dive ends with its roster, or ``start`` if
    it found none better: the last steps are the dive's slowest. With ``finish``, the steps'
    column generation stops ``reserve`` seconds before ``deadline``, so the finish always
    gets those seconds: a step that would run on to the deadline hands its last LP's
    completion to the finish instead (the pace is still judged against ``deadline``);
    ``start``, the pool's current LP, is what it completes if no step had time to solve one.
    The pool is left unfixed, with every column generated."""
    fixed = dict(fixed or {})
    rng = random.Random(seed) if randomize else None
    n_staff, took, last = len(pool.problem.staff), 0.0, start
    until = deadline - reserve if finish is not None else deadline  # the steps' own deadline
    try:
        while len(fixed) < n_staff:
            began, free = time.monotonic(), n_staff - len(fixed)
            if finish is not None and last is not None and free <= finish_at:
                return _finished(pool.problem, fixed, last, finish, deadline)
            state = generate(pool, pricers, until, CgState(), halt=halt, seed=seed,
                             fixed=fixed, chunk=chunk)
            last = (state.solution or last) if hurry else state.solution
            now, free = time.monotonic(), n_staff - len(fixed)
            left = deadline - now
            if halt() or last is None or (left <= 0 and not hurry):
                return None
            step = hurried(batch, free, took, left) if hurry and took and left > 0 else batch
            if hurry and (now >= until or batch < free <= step):  # (out of time, or all at once)
                return (_finished(pool.problem, fixed, last, finish, deadline)
                        if finish is not None and left > 0 else
                        _completed(pool.problem, fixed, last))
            for e, col in _pick(last, fixed, rng, step).items():
                fixed[e] = col
                pool.fix(e, col)
            took = time.monotonic() - began
            log.debug("dive step: %d fixed, %.1f s", len(fixed), took)
    finally:
        pool.unfix()
    return roster_of_columns(pool.problem, [fixed[e] for e in range(n_staff)])


def _finished(problem: RosterProblem, fixed: dict[int, Column], sol: LpSolution,
              finish: Finish, deadline: float) -> Assignments | None:
    """The members not in ``fixed`` re-planned by ``finish`` from :func:`_completed`."""
    start = _completed(problem, fixed, sol)
    free = [e for e in range(len(problem.staff)) if e not in fixed]
    log.debug("dive: %d members free, finished by CP-SAT (%.1f s left)", len(free),
              deadline - time.monotonic())
    return (start and finish(start, free, deadline)) or start


def _completed(problem: RosterProblem, fixed: dict[int, Column],
               sol: LpSolution) -> Assignments | None:
    """The roster of ``fixed`` with every other member on their heaviest schedule in ``sol``
    (None if the LP gives one of them none)."""
    cols = dict(fixed)
    for e in range(len(problem.staff)):
        if e not in cols:
            if not sol.chosen[e]:
                return None
            cols[e] = max(sol.chosen[e], key=sol.chosen[e].__getitem__)
    return roster_of_columns(problem, [cols[e] for e in range(len(problem.staff))])


def hurried(batch: int, left: int, took: float, time_left: float) -> int:
    """How many members a dive step fixes (when the LP gives none a whole schedule) with
    ``left`` members free, ``time_left`` seconds to its deadline and ``took`` seconds spent
    on its last step: ``batch``, or more when that many steps at that pace would not end in
    time, and all of them when at most one more step would. Steps slow down as members are
    fixed (Instance 18, 84 x 22, one member a step: 0.3-2 s each at first, 6-26 s for the
    last six; alone, the dive ended at 127 s with 4480, 0.5 % from the best known, where
    inside a 120 s solve it was stopped at 102 s with nothing), so the last step's pace is
    the estimate."""
    steps = math.floor(time_left / took) if took > 0 else left
    if steps <= 1:
        return left
    return max(batch, math.ceil(left / steps))


def repair(pool: ColumnPool, pricers: list, roster: Assignments, free: Collection[int],
           deadline: float, halt: Callable[[], bool] = lambda: False,
           seed: int = 0, chunk: int = 0) -> Assignments | None:
    """An LNS move on the LP: every member outside ``free`` keeps their schedule in
    ``roster``; column generation and a dive re-plan the ``free`` ones (None when out of
    time)."""
    cols = columns_of(pool.problem, roster)
    fixed = {e: col for e, col in enumerate(cols) if e not in free}
    for e, col in fixed.items():
        pool.fix(e, col)
    return dive(pool, pricers, deadline, halt=halt, seed=seed, fixed=fixed, randomize=True,
                chunk=chunk)


@dataclass
class Phase:
    """What the column-generation phase left: the root LP's bound and the reduced costs that
    guide the LNS (None when the root LP did not finish a round)."""

    bound: float = 0.0
    dive: int | None = None  # the dive's objective (None: no dive finished)
    guide: Callable[[Assignments], list[float]] | None = None
    repair: Callable[[Assignments, list[int], float, int], Assignments | None] | None = None
    fixing: Callable[[int, float], Fixing | None] | None = None  # reduced-cost fixing for an
    # ub, given up when it would not end by the time given
    master: Callable[..., tuple[Assignments, int] | None] | None = None  # rmip.best_from_pool
    # on this phase's pool and root LP


def colgen_phase(rm: RosterModel, inc: Incumbent, started: float, dive_until: float,
                 deadline: float, halt: Callable[[], bool],
                 on_bound: Callable[[float], None], seed: int = 0,
                 dive_batch_per: int = 20, chunk: int = 0,
                 root_until: float | None = None, finish: Finish | None = None,
                 finish_share: float = 0.0, finish_reserve: float = 0.0) -> Phase:
    """Column generation from the incumbent's schedules to the root LP (its bounds go to
    ``on_bound``, rounded up; ``chunk``: partial pricing, :func:`generate`; it stops by
    ``root_until``, default ``deadline``), then one dive (ending by ``dive_until``) whose
    roster is offered to ``inc``. The phase hands on the guide and the repair move for the
    LNS."""
    phase, problem = Phase(), rm.problem
    with inc.lock:
        roster = inc.roster
    if roster is None:
        return phase
    pool = ColumnPool(problem)
    pool.add_roster(roster)
    pricers = make_pricers(problem)
    state = generate(pool, pricers, deadline if root_until is None else root_until, CgState(),
                     halt=halt, seed=seed, chunk=chunk,
                     on_bound=lambda b: on_bound(float(math.ceil(b - 1e-6))))
    root = state.solution
    if root is None:
        return phase
    phase.bound = state.bound
    log.info("root LP %.2f after %d rounds (%d partial, %d pricings; converged: %s) at %.1f s",
             state.lp, state.rounds, state.partial, state.priced, state.converged,
             time.monotonic() - started)
    phase.guide = lambda r: pool.roster_reduced_costs(r, root)
    phase.repair = lambda r, free, until, k: repair(pool, pricers, r, free, until, halt, k,
                                                    chunk)
    if state.converged:  # the root duals: the Lagrangian bound is the LP's
        phase.fixing = partial(reduced_cost_fixing, pool, pricers, root)  # (ub, until)
        phase.master = partial(best_from_pool, pool, root)
    if state.converged and not halt():
        found = dive(pool, pricers, dive_until, halt=halt, seed=seed,
                     batch=max(1, len(problem.staff) // dive_batch_per), chunk=chunk,
                     hurry=True, finish=finish,
                     finish_at=math.floor(finish_share * len(problem.staff)),
                     reserve=finish_reserve, start=root)
        if found is not None:
            phase.dive = check_roster(problem, found).objective
            log.info("dive: %d at %.1f s", phase.dive, time.monotonic() - started)
            inc.offer(rm, found, phase.dive, "dive", time.monotonic() - started)
    return phase
