"""The dive's finish: the members it left free re-planned by CP-SAT, everyone else fixed.

The column-generation dive (:mod:`actors.solve.dive`) fixes members one schedule at a time;
its last steps are its slowest. Once few members are free it hands them here with ``start``,
the roster where each of them takes their heaviest schedule in the last LP (valid member by
member, often poor on cover: 7205 on Instance 18 where the incumbent was ~5500).

Contract: every member outside ``members`` keeps their schedule in ``start``; every roster
returned or offered is checked and strictly better than ``start``; the work is bounded by
``deadline`` and by a stall count of steps (each a CP-SAT solve bounded by the worker's
limits), never by anything else.

How: a small LNS restricted to those members. Each step frees ``group`` of them at random
over the whole horizon and solves that on a fixed copy of the light model, below the best so
far. One solve over all of them at once (``group`` 0, the sixteenth pass's finish) was far
slower from such a start: from the 7205 above, with 11 members free, one single-worker solve
reached 6528 in 30 s; three members a step at 1 s each reached 5205 in 2 s and 4790 in 22 s
(docs/benchmarks.md, seventeenth pass). Each better roster goes to the incumbent as it is
found (``source``), so the other thread's LNS works from it while the finish goes on.
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from actors.solve.checker import check_roster
from actors.solve.incumbent import roster_of
from actors.solve.schema import Assignments

if TYPE_CHECKING:
    from actors.solve.lns import LnsWorker

STALL_PER_MEMBER = 2  # the finish ends after this many steps per free member without a gain


def finish(worker: LnsWorker, start: Assignments, members: list[int], deadline: float,
           group: int, source: str = "dive") -> Assignments | None:
    """``members`` re-planned over the whole horizon from ``start`` (a valid roster) with the
    others fixed: the best roster found (None: none better than ``start``, or halted). With
    ``group`` 0, one solve of all of them until it is optimal or ``deadline``."""
    if group <= 0 or group >= len(members):
        return _one_solve(worker, start, members, deadline, source)
    best, roster = check_roster(worker.rm.problem, start).objective, start
    found: Assignments | None = None
    rng = random.Random(worker.rng.randrange(1 << 30))
    stall, limit = 0, STALL_PER_MEMBER * len(members)
    while stall < limit and not worker.halt.is_set():
        left = deadline - time.monotonic()
        if left < 0.2:
            break
        step = _step(worker, roster, rng.sample(members, group), best, min(worker.sub_limit_s,
                                                                          left))
        if step is None:
            stall += 1
            continue
        roster, best, found, stall = step[0], step[1], step[0], 0
        if source:
            worker.inc.offer(worker.rm, roster, best, source, time.monotonic() - worker.started)
    return found


def _step(worker: LnsWorker, roster: Assignments, chosen: list[int], best: int,
          limit: float) -> tuple[Assignments, int] | None:
    """``chosen`` re-planned below ``best``: the roster and its objective, or None."""
    solver, code = worker.solve_members(roster, chosen, best - 1, limit)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    out = roster_of(worker.rm, solver.boolean_value)
    report = check_roster(worker.rm.problem, out)
    return (out, report.objective) if report.feasible and report.objective < best else None


def _one_solve(worker: LnsWorker, start: Assignments, members: list[int], deadline: float,
               source: str) -> Assignments | None:
    """All of ``members`` in one CP-SAT solve until it is optimal or ``deadline``, each better
    roster offered to the incumbent as it comes."""
    cutoff = check_roster(worker.rm.problem, start).objective - 1
    share = _Share(worker, source) if source else None
    solver, code = worker.solve_members(start, members, cutoff, deadline - time.monotonic(),
                                        share)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return roster_of(worker.rm, solver.boolean_value)


class _Share(cp_model.CpSolverSolutionCallback):
    """Offers each solution of a long solve to the worker's incumbent as it comes."""

    def __init__(self, worker: LnsWorker, source: str) -> None:
        super().__init__()
        self.worker, self.source = worker, source

    def on_solution_callback(self) -> None:
        w = self.worker
        w.inc.offer(w.rm, roster_of(w.rm, self.boolean_value), round(self.objective_value),
                    self.source, time.monotonic() - w.started)
