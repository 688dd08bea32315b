"""Staff/day large-neighbourhood search: the primal side of the solve portfolio.

CP-SAT's own LNS picks random variables or constraints; a roster improves by re-planning whole
work patterns, so here each step frees every cell of a few staff members (or of every member
over a window of days), fixes the rest of the best roster, and re-solves that small problem on
a light copy of the model (no flow, no window cuts) with a 1 s limit. The two kinds are picked
at random and each keeps its own size (:class:`Arm`): it grows while its sub-solves close and
shrinks while they time out. Improvements go to a shared :class:`Incumbent` that the exact
search (and a second LNS, once the exact search hands its core over) also report to.
"""

from __future__ import annotations

import gc
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from actors.solve.checker import check_roster
from actors.solve.colgen import MasterLpFailed
from actors.solve.constraints import RosterModel
from actors.solve.exchange import Exchange
from actors.solve.finish import finish
from actors.solve.incumbent import Incumbent, roster_of
from actors.solve.kinds import Tally, draw, record
from actors.solve.neighbourhood import cells_to_free
from actors.solve.plateau import must_differ
from actors.solve.schema import Assignments
from actors.solve.submodel import Index, build_sub, roster_of_sub

log = logging.getLogger(__name__)

SUB_LIMIT_S = 1.0  # time limit of one sub-solve
SUB_LINEARIZATION = 2  # CP-SAT linearization level of the sub-solves
FIRST_LIMIT_S = 2.0  # the first roster's single-worker solve
CUTOFF = True  # sub-solves must beat the incumbent (objective <= best - 1)
KINDS = ("staff", "days")  # neighbourhood kinds, chosen in turn at random, each sized apart
COMPACT_KINDS = ("days", "pair", "halves")  # ... on compact sub-models (set_compact): a few members
# over the whole horizon rarely closed within 1 s there (Instance 13, 60 s from the
# construction's 5527, one thread: days 3452 / 3891, days + pair 3782 / 3452, with staff 3910
# / 4308)
GROW, SHRINK = 1.1, 0.92  # size factors after a closed / a timed-out sub-solve
MIN_SIZE, MAX_SIZE = 0.03, 2.0
GUIDE_FLOOR = 0.1  # guided kind: every member keeps this weight beside their reduced cost
LP_SHARE = (0.3, 0.7)  # lp kind: the share of the staff it re-plans, drawn uniformly
LP_CHANCE = 0.5  # lp kind: the chance it is picked (a back-off after misses, x0.8 down to
# 0.1, was tried: Instance 8 ended at 1311 / 1312 / 1324 / 1405 against 1305 / 1306 without)
LP_LIMIT_S = 5.0  # lp kind: time limit of one move
GC_CELLS = 250_000  # a full garbage collection every GC_CELLS / (model cells) sub-solves
EXPLORE = 0.25  # compact sub-solves: a kind at random this often, else one drawn by rate
RATE_WEIGHT = 0.1  # ... the weight of the latest step in a kind's moving average
GROW_ON_GAIN = True  # compact sub-solves: a kind grows after an improvement too
FINISH_GROUP = 3  # complete(): members re-planned a step (Plan.dive_finish_group)


@dataclass
class Arm:
    """One neighbourhood kind with its own size: it grows when its sub-solves close (solved or
    proved empty) and shrinks when they time out, so each kind finds the size it can solve."""

    kind: str  # "staff": a few members for all days; "days": every member over a few days
    size: float = 0.1
    tries: int = 0
    gains: int = 0
    rate: float = 0.0  # compact sub-solves: moving average of the gain per second
    tally: Tally = field(default_factory=Tally)  # ... discounted gain and work (kinds.py)

    def credit(self, gain: int, seconds: float) -> None:
        self.rate += RATE_WEIGHT * (gain / max(seconds, 0.01) - self.rate)

    def update(self, closed: bool, gain: int) -> None:
        self.tries += 1
        self.gains += gain
        self.size = (min(MAX_SIZE, self.size * GROW) if closed
                     else max(MIN_SIZE, self.size * SHRINK))


Cells = set[tuple[int, int]]
Repair = Callable[[Assignments, list[int], float, int], "Assignments | None"]


def _fix(model: cp_model.CpModel, var: cp_model.IntVar, value: int) -> None:
    dom = model.proto.variables[var.index].domain
    dom.clear()
    dom.extend([value, value])


def _fixed_copy(rm: RosterModel, roster: Assignments, free: Cells,
                hint: Callable[[cp_model.CpModel, Assignments], None],
                cutoff: int | None = None, typed: Cells | None = None) -> cp_model.CpModel:
    """A copy of the model with every cell outside ``free`` fixed to ``roster`` (cells in
    ``typed`` keep only whether they are worked)."""
    p = rm.problem
    sub = rm.model.clone()
    sub.clear_hints()
    typed = typed or set()
    for e, staff in enumerate(p.staff):
        for d in range(p.horizon.days):
            if (e, d) in free:
                continue
            if (e, d) in typed:
                _fix(sub, rm.work[e, d], int(roster[staff.id][d] is not None))
                continue
            for s, shift in enumerate(p.shifts):
                _fix(sub, rm.x[e, d, s], int(roster[staff.id][d] == shift.id))
    hint(sub, roster)
    if cutoff is not None:
        sub.add(rm.objective() <= cutoff)
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
        self.arms = [Arm(kind) for kind in KINDS]
        self._solver: cp_model.CpSolver | None = None
        self.guide: Callable[[Assignments], list[float]] | None = None
        self.repair: Repair | None = None
        self.sub_limit_s, self.lp_limit_s = SUB_LIMIT_S, LP_LIMIT_S  # the plan's budgets
        self.linearization = SUB_LINEARIZATION
        self.gc_every = max(1, GC_CELLS // max(1, len(rm.x)))  # (a collection costs 0.1-0.3 s)
        self.index: Index | None = None  # set_compact: sub-models of the free cells alone
        self.exchange: Exchange | None = None  # set_chains: ejection chains
        self.merge = False  # compact: an improvement another thread overtook is written over
        # the new incumbent (Plan.lns_merge)
        self.det_limit: float | None = None  # benches, tests: CP-SAT work, not wall time
        self.work = 0.0  # the sub-solves' deterministic time so far
        self.explore = EXPLORE  # compact: the share of kinds drawn at random (Plan.lns_explore)
        self.sideways = 0.0  # compact: the chance a step may move sideways (plateau.py)
        self.draw = "rate"  # compact: how a kind is drawn (Plan.lns_draw; "work": kinds.py)
        self.total = Tally()  # ... "work": every step's gain and work
        self.current: tuple[Assignments, int] | None = None  # ... this thread's roster there
        self.finish_group = FINISH_GROUP  # complete(): members a step (0: all in one solve)

    def set_compact(self) -> None:
        """From now on each neighbourhood is solved on a model of its free cells alone
        (:mod:`actors.solve.submodel`), not on a fixed copy of the whole model."""
        self.index = Index(self.rm.problem)
        self.arms = [Arm(kind) for kind in COMPACT_KINDS]

    def add_kind(self, kind: str) -> None:
        """One more neighbourhood kind (``weekends``: :mod:`actors.solve.weekends`)."""
        self.arms.append(Arm(kind))

    def set_chains(self, beams: tuple[int, ...]) -> None:
        """Compact only: a kind that runs an ejection chain from a short row (exchange.py)."""
        exchange = Exchange(self.rm.problem, beams)
        if self.index is not None and exchange.supported:
            self.exchange = exchange
            self.arms.append(Arm("chain"))

    def set_guide(self, guide: Callable[[Assignments], list[float]]) -> None:
        """From now on a third kind frees the members whose schedules cost most above the
        column-generation LP (their reduced costs), plus a few others at random."""
        self.guide = guide
        if all(arm.kind != "guided" for arm in self.arms):
            self.arms.append(Arm("guided"))

    def set_repair(self, repair: Repair) -> None:
        """From now on a fourth kind, ``lp`` (picked half the time), re-plans a random 30–70 %
        of the staff — drawn as the guided kind draws them, or uniformly, half and half —
        with column generation and a randomised dive."""
        self.repair = repair
        if all(arm.kind != "lp" for arm in self.arms):
            self.arms.append(Arm("lp"))

    def _members(self, roster: Assignments, size: float) -> list[int]:
        """``size`` × staff members drawn by the reduced cost of their schedule (+ a floor)."""
        assert self.guide is not None
        weights = [max(0.0, w) + GUIDE_FLOOR for w in self.guide(roster)]
        n_staff = len(weights)
        k = min(n_staff, max(2, round(size * n_staff)))
        left, chosen = list(range(n_staff)), []
        while len(chosen) < k:  # weighted sampling without replacement
            e = self.rng.choices(left, weights=[weights[i] for i in left])[0]
            chosen.append(e)
            left.remove(e)
        return chosen

    def _guided(self, roster: Assignments, size: float) -> Cells:
        days = self.rm.problem.horizon.days
        return {(e, d) for e in self._members(roster, size) for d in range(days)}

    def _arm(self) -> Arm:
        """The lp kind (when there is one) with ``LP_CHANCE``, else a kind at random."""
        if self.index is not None and self.draw == "work":  # by discounted gain per work
            return self.arms[draw([arm.tally for arm in self.arms], self.total, self.rng)]
        if self.index is not None:  # compact: by the gain per second, or at random
            rates = [max(0.0, arm.rate) for arm in self.arms]
            if self.rng.random() < self.explore or not sum(rates):
                return self.rng.choice(self.arms)
            return self.rng.choices(self.arms, weights=rates)[0]
        lp = [arm for arm in self.arms if arm.kind == "lp"]
        if lp and self.rng.random() < LP_CHANCE:
            return lp[0]
        return self.rng.choice([arm for arm in self.arms if arm.kind != "lp"])

    def _lp_step(self, roster: Assignments, deadline: float) -> None:
        assert self.repair is not None
        size = self.rng.uniform(*LP_SHARE)
        n_staff = len(self.rm.problem.staff)
        members = (self._members(roster, size) if self.rng.random() < 0.5 else
                   self.rng.sample(range(n_staff), max(2, round(size * n_staff))))
        try:
            found = self.repair(roster, members, min(deadline, time.monotonic() + self.lp_limit_s),
                                self.rng.randrange(1 << 30))
        except MasterLpFailed:  # GLOP failed twice on this pool: the other kinds go on
            self.repair, self.arms = None, [arm for arm in self.arms if arm.kind != "lp"]
            return
        self.steps += 1
        if found is not None:
            self.inc.offer(self.rm, found, None, "lp", time.monotonic() - self.started)

    def _merge(self, found: Assignments, free: Cells) -> int:
        """The other thread improved the incumbent while this sub-solve ran: ``free``'s cells
        as ``found`` has them, written over the new incumbent, offered (the checker judges:
        the two changes may break a rule together). The gain, or 0."""
        with self.inc.lock:
            current, before = self.inc.roster, self.inc.objective
        assert current is not None and before is not None
        merged = {sid: list(days) for sid, days in current.items()}
        staff = self.rm.problem.staff
        for e, d in free:
            merged[staff[e].id][d] = found[staff[e].id][d]
        report = check_roster(self.rm.problem, merged)  # (offer records a rejection)
        if merged == current or not report.feasible or report.objective >= before or not \
                self.inc.offer(self.rm.problem, merged, None, "merge",
                               time.monotonic() - self.started):
            return 0
        return before - self.inc.objective  # type: ignore[operator]

    def _chain_step(self, arm: Arm, roster: Assignments, best: int, left: float) -> None:
        assert self.exchange is not None
        began = time.monotonic()
        change = self.exchange.step(roster, self.rng, began + min(self.sub_limit_s, left),
                                    self.halt.is_set)
        self.steps, gain = self.steps + 1, 0
        if change < 0 and self.inc.offer(self.rm, self.exchange.roster(), None, "chain",
                                         time.monotonic() - self.started):
            gain = best - self.inc.objective  # type: ignore[operator]
        arm.tries, arm.gains = arm.tries + 1, arm.gains + gain
        arm.credit(gain, time.monotonic() - began)
        if self.draw == "work":  # (wall seconds: a chain is no CP-SAT work)
            record([a.tally for a in self.arms], arm.tally, self.total, gain,
                   time.monotonic() - began)

    def stop(self) -> None:
        self.halt.set()
        solver = self._solver
        if solver is not None:
            solver.stop_search()

    def _solve(self, model: cp_model.CpModel, limit: float, linearization: int = 2,
               callback: cp_model.CpSolverSolutionCallback | None = None,
               ) -> tuple[cp_model.CpSolver, int]:
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = max(0.05, limit)
        if self.det_limit is not None:
            solver.parameters.max_time_in_seconds = 600.0
            solver.parameters.max_deterministic_time = self.det_limit
        solver.parameters.random_seed = self.rng.randrange(1 << 30)
        solver.parameters.linearization_level = linearization
        self._solver = solver
        if self.halt.is_set():
            return solver, cp_model.UNKNOWN
        code = solver.solve(model, callback)
        self._solver = None
        self.work += solver.deterministic_time
        return solver, code

    def solve_members(self, roster: Assignments, members: list[int], cutoff: int,
                      limit: float, callback: cp_model.CpSolverSolutionCallback | None = None,
                      ) -> tuple[cp_model.CpSolver, int]:
        """One solve of ``members`` over the whole horizon, every other cell fixed as in
        ``roster`` (the hint), objective at most ``cutoff``; counted as a step."""
        days = self.rm.problem.horizon.days
        free = {(e, d) for e in members for d in range(days)}
        sub = _fixed_copy(self.rm, roster, free, self.hint, cutoff)
        self.steps += 1
        return self._solve(sub, limit, SUB_LINEARIZATION, callback)

    def complete(self, start: Assignments, members: list[int], deadline: float,
                 source: str = "dive") -> Assignments | None:
        """``members`` re-planned, the others fixed as in ``start``
        (:func:`actors.solve.finish.finish`, ``self.finish_group`` members a step)."""
        return finish(self, start, members, deadline, self.finish_group, source)

    def first(self, deadline: float, limit_s: float = FIRST_LIMIT_S) -> None:
        """A first roster from a short single-worker solve of the whole (light) model."""
        limit = min(limit_s, deadline - time.monotonic())
        solver, code = self._solve(self.rm.model, limit, linearization=0)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            self.inc.offer(self.rm, roster_of(self.rm, solver.boolean_value),
                           round(solver.objective_value), "lns",
                           time.monotonic() - self.started)

    def run(self, deadline: float, max_steps: int | None = None) -> None:
        """Loop sub-solves until ``deadline``, :meth:`stop` or (tests) ``max_steps``."""
        if self.inc.roster is None:
            self.first(deadline)
        while not self.halt.is_set() and (max_steps is None or self.steps < max_steps):
            left = deadline - time.monotonic()
            if left < 0.2:
                break
            if self.inc.roster is None:  # wait for the exact search's first roster
                self.halt.wait(0.1)
                continue
            with self.inc.lock:
                roster, best = self.inc.roster, self.inc.objective
            if self.current is not None and self.current[1] == best:  # on the plateau
                roster = self.current[0]
            arm = self._arm()
            if arm.kind in ("lp", "chain"):
                (self._lp_step(roster, deadline) if arm.kind == "lp"
                 else self._chain_step(arm, roster, best, left))
                continue
            if arm.kind == "guided":
                free, typed = self._guided(roster, arm.size), set()
            else:
                free, typed = cells_to_free(self.rm, self.rng, arm.size, roster, arm.kind)
            if self.index is not None and not typed:
                self._compact_step(arm, roster, best, free, left)
                continue
            sub = _fixed_copy(self.rm, roster, free, self.hint, best - 1 if CUTOFF else None,
                              typed)
            solver, code = self._solve(sub, min(self.sub_limit_s, left), SUB_LINEARIZATION)
            self.steps += 1
            if self.steps % self.gc_every == 0:
                gc.collect()  # the model copies sit in reference cycles: without this the
                # process grew by ~20 MB/s on a 182-day instance (2.7 GB after 100 s)
            closed = code in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
            value = round(solver.objective_value) if code in (
                cp_model.OPTIMAL, cp_model.FEASIBLE) else None
            gain = 0
            if value is not None and value < best and self.inc.offer(
                    self.rm, roster_of(self.rm, solver.boolean_value), value, "lns",
                    time.monotonic() - self.started):
                gain = best - value
            if not self.halt.is_set():
                arm.update(closed, gain)
        log.debug("lns ends after %d steps: %s", self.steps, "; ".join(
            f"{a.kind} {a.tries} tries, {a.gains} lower, size {a.size:.3f}" for a in self.arms))

    def _sideways(self, found: Assignments, best: int) -> None:
        report = check_roster(self.rm.problem, found)
        if report.feasible and report.objective == best:
            self.current = (found, best)

    def _compact_step(self, arm: Arm, roster: Assignments, best: int, free: Cells,
                      left: float) -> None:
        """One sub-solve on the model of ``free`` alone (:meth:`set_compact`)."""
        assert self.index is not None
        began, work = time.monotonic(), self.work
        table = self.index.table(roster)
        side = self.sideways > 0 and self.rng.random() < self.sideways
        sub = build_sub(self.index, table, free, best, best - (not side) if CUTOFF else None)
        if side:
            must_differ(sub, table)
        solver, code = self._solve(sub.model, min(self.sub_limit_s, left), self.linearization)
        self.steps += 1
        closed = code in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
        gain = 0
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            value = sub.offset + round(solver.objective_value)
            found = roster_of_sub(self.index, sub, table, free, solver) if value <= best else None
            if found is not None and value == best:
                self._sideways(found, best)
            elif found is not None and self.inc.offer(self.rm, found, value, "lns",
                                                    time.monotonic() - self.started):
                gain = best - value
            elif found is not None and self.merge:
                gain = self._merge(found, free)
        if gain:
            log.debug("%s step: %d lower (size %.3f, %d free cells, %.1f s)", arm.kind, gain,
                      arm.size, len(free), time.monotonic() - began)
        if not self.halt.is_set():
            arm.update(closed or (GROW_ON_GAIN and gain > 0), gain)
            arm.credit(gain, time.monotonic() - began)
            if self.draw == "work":  # the draw's record only when it draws by it
                record([a.tally for a in self.arms], arm.tally, self.total, gain,
                       self.work - work)
