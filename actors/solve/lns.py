"""Staff/day large-neighbourhood search: the primal side of the solve portfolio.

CP-SAT's own LNS picks random variables or constraints; a roster improves by re-planning whole
work patterns, so here each step frees every cell of a few staff members (or of every member
over a window of days), fixes the rest of the best roster, and re-solves that small problem on
the full model (its flow LP is tight, so the small solves are quick). Improvements go to a
shared :class:`Incumbent` that the exact search beside it also reports to.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from actors.solve.checker import check_roster
from actors.solve.constraints import RosterModel
from actors.solve.schema import Assignments

SUB_LIMIT_S = (0.3, 4.0)  # adaptive time limit of one sub-solve
FIRST_LIMIT_S = 5.0


@dataclass
class Incumbent:
    """The best checked roster so far, shared between the searches (thread-safe)."""

    roster: Assignments | None = None
    objective: int | None = None
    source: str = ""
    found_at: float | None = None
    on_improve: Callable[[int, str], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def offer(self, rm: RosterModel, roster: Assignments, objective: int, source: str,
              elapsed: float) -> bool:
        """Keep ``roster`` if it is strictly better; the checker must accept it."""
        with self.lock:
            if self.objective is not None and objective >= self.objective:
                return False
            report = check_roster(rm.problem, roster)
            if not report.feasible or report.objective != objective:
                return False
            self.roster, self.objective = roster, objective
            self.source, self.found_at = source, elapsed
            if self.on_improve is not None:
                self.on_improve(objective, source)
            return True


def roster_of(rm: RosterModel, value: Callable[[cp_model.IntVar], int]) -> Assignments:
    p = rm.problem
    out: Assignments = {}
    for e, staff in enumerate(p.staff):
        out[staff.id] = [next((sh.id for s, sh in enumerate(p.shifts) if value(rm.x[e, d, s])),
                              None) for d in range(p.horizon.days)]
    return out


def _neighbourhood(rm: RosterModel, rng: random.Random, size: float) -> set[tuple[int, int]]:
    """Cells (staff, day) to free: some staff for all days, or all staff over a window."""
    n_staff, days = len(rm.problem.staff), rm.problem.horizon.days
    kind = rng.random()
    if kind < 0.5:
        k = max(2, round(size * n_staff))
        staff = rng.sample(range(n_staff), min(k, n_staff))
        return {(e, d) for e in staff for d in range(days)}
    if kind < 0.8:
        width = max(2, round(size * days))
        start = rng.randrange(0, max(1, days - width + 1))
        return {(e, d) for e in range(n_staff) for d in range(start, start + width)}
    k = max(2, round(2 * size * n_staff))
    width = max(4, days // 2)
    start = rng.randrange(0, max(1, days - width + 1))
    staff = rng.sample(range(n_staff), min(k, n_staff))
    return {(e, d) for e in staff for d in range(start, start + width)}


def _fixed_copy(rm: RosterModel, roster: Assignments, free: set[tuple[int, int]],
                hint: Callable[[cp_model.CpModel, Assignments], None]) -> cp_model.CpModel:
    p = rm.problem
    sub = rm.model.clone()
    sub.clear_hints()
    for e, staff in enumerate(p.staff):
        for d in range(p.horizon.days):
            if (e, d) in free:
                continue
            for s, shift in enumerate(p.shifts):
                v = int(roster[staff.id][d] == shift.id)
                dom = sub.proto.variables[rm.x[e, d, s].index].domain
                dom.clear()
                dom.extend([v, v])
    hint(sub, roster)
    return sub


class LnsWorker:
    """Improves an :class:`Incumbent` until a deadline; :meth:`stop` ends it promptly."""

    def __init__(self, rm: RosterModel, inc: Incumbent, seed: int, started: float,
                 hint: Callable[[cp_model.CpModel, Assignments], None]) -> None:
        self.rm, self.inc, self.hint, self.started = rm, inc, hint, started
        self.rng = random.Random(seed)
        self.seed = seed
        self.halt = threading.Event()
        self.steps = 0
        self._solver: cp_model.CpSolver | None = None

    def stop(self) -> None:
        self.halt.set()
        solver = self._solver
        if solver is not None:
            solver.stop_search()

    def _solve(self, model: cp_model.CpModel, limit: float,
               linearization: int = 2) -> tuple[cp_model.CpSolver, int]:
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = max(0.05, limit)
        solver.parameters.random_seed = self.rng.randrange(1 << 30)
        solver.parameters.linearization_level = linearization
        self._solver = solver
        if self.halt.is_set():
            return solver, cp_model.UNKNOWN
        code = solver.solve(model)
        self._solver = None
        return solver, code

    def _first(self, limit: float) -> None:
        solver, code = self._solve(self.rm.model, limit, linearization=0)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            self.inc.offer(self.rm, roster_of(self.rm, solver.boolean_value),
                           round(solver.objective_value), "lns",
                           time.monotonic() - self.started)

    def run(self, deadline: float) -> None:
        """Loop sub-solves until ``deadline`` or :meth:`stop`."""
        if self.inc.roster is None:
            self._first(min(FIRST_LIMIT_S, deadline - time.monotonic()))
        size, limit = 0.2, 1.0
        while not self.halt.is_set() and self.inc.roster is not None:
            left = deadline - time.monotonic()
            if left < 0.2:
                break
            with self.inc.lock:
                roster, best = self.inc.roster, self.inc.objective
            free = _neighbourhood(self.rm, self.rng, size)
            solver, code = self._solve(_fixed_copy(self.rm, roster, free, self.hint),
                                       min(limit, left))
            self.steps += 1
            if code == cp_model.OPTIMAL:  # solved with time to spare: grow the neighbourhood
                size = min(0.6, size * 1.1)
            else:
                size = max(0.05, size * 0.9)
                limit = min(SUB_LIMIT_S[1], limit * 1.1)
            value = round(solver.objective_value) if code in (
                cp_model.OPTIMAL, cp_model.FEASIBLE) else None
            if value is not None and value < best:
                self.inc.offer(self.rm, roster_of(self.rm, solver.boolean_value), value, "lns",
                               time.monotonic() - self.started)
