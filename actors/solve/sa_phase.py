"""The annealing phase: simulated annealing (:mod:`actors.solve.anneal`) on one thread, its
best valid rosters offered to the shared incumbent after every batch of moves.

Temperatures fall geometrically with the share of the phase's time spent (``plan.anneal_t0``
to ``plan.anneal_t1``): each batch is a fixed number of moves (``plan.anneal_batch``) whose
end temperature is where the previous batch's duration says the clock will be, so the
schedule follows the clock while every batch is bounded work. The shaping cost of a weekend
worked on one day only (:meth:`~actors.solve.anneal.Annealer.set_split`) falls linearly from
``plan.anneal_split`` to 0 by ``plan.anneal_split_end`` of the phase, so its last moves follow
the objective alone.

Every ``plan.anneal_sweep_every`` of the phase (where planned), the thread stops annealing for
one best-response sweep (:func:`actors.solve.construct.best_responses`) from the annealer's
best roster, and anneals on from the sweep's roster when it is better: a member's exact re-plan
against everyone else moves a whole weekend or run, which annealing's small moves reach only
through rosters that break a rule. When a sweep gains less a second than annealing did since
the sweep before, the time to the next one doubles (:func:`next_gap`). A sweep ends after
``plan.anneal_sweep_cap`` of the phase, the members it has not reached keeping their schedules
(a sweep on a year of 50 members took 20-40 s).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np

from actors.solve.plan import Plan
from actors.solve.search import Search

if TYPE_CHECKING:
    from actors.solve.anneal import Annealer
    from actors.solve.schema import Assignments, RosterProblem

log = logging.getLogger(__name__)


def temperature(plan: Plan, share: float) -> float:
    """The temperature after ``share`` (0..1) of the phase."""
    share = min(1.0, max(0.0, share))
    return plan.anneal_t0 * (plan.anneal_t1 / plan.anneal_t0) ** share


def split(plan: Plan, share: float) -> float:
    """The shaping cost of a one-day weekend after ``share`` of the phase (falls to 0 by
    ``plan.anneal_split_end`` of it; none where make_plan has not decided, -1)."""
    end = plan.anneal_split_end if plan.anneal_split_end > 0 else 1.0  # (-1: undecided)
    return max(0.0, plan.anneal_split) * max(0.0, 1.0 - share / end)


def anneal_batch(ann: Annealer, plan: Plan, share: float, ahead: float, seed: int) -> None:
    """One batch of ``plan.anneal_batch`` moves after ``share`` of the phase: the shaping cost
    of that moment, and temperatures from there to where ``ahead`` more of the phase ends
    (the last batch's share of it)."""
    ann.set_split(split(plan, share))
    ann.run(plan.anneal_batch, temperature(plan, share), temperature(plan, share + ahead),
            plan.anneal_weight, seed)


def anneal_phase(search: Search, plan: Plan, seed: int, until: float,
                 from_roster: Assignments | None = None, source: str = "anneal") -> None:
    """Anneal from the incumbent (the construction's first roster; ``plan.anneal_from``) or
    from ``from_roster``, a valid roster, until ``until``; what it offers the incumbent is
    marked ``source``."""
    from actors.solve.anneal import Annealer

    while search.inc.roster is None and not search.finished() and time.monotonic() < until:
        time.sleep(0.05)
    with search.inc.lock:
        roster = search.inc.roster
    if roster is None or search.finished():
        return
    pricers = Pricers(search.problem)  # (one set for the sweeps and the repairs)
    first = (from_roster if from_roster is not None
             else start_roster(search.problem, plan, roster, pricers))
    ann = Annealer(search.problem, first, plan)
    start = time.monotonic()
    span, last, batches = max(1e-3, until - start), 0.0, 0
    sweeps = _Sweeps(search, plan, seed, start, span, until, ann.best_objective, pricers)
    repairs = Repairs(plan, seed, start, span, pricers)
    while not search.finished() and (now := time.monotonic()) < until:
        share = (now - start) / span
        anneal_batch(ann, plan, share, last / span, seed * 100_003 + batches)
        last, batches = time.monotonic() - now, batches + 1
        sweeps.maybe(ann)
        repairs.maybe(ann)
        best = search.inc.objective
        if best is None or ann.best_objective < best:
            search.inc.offer(search.problem, ann.best_roster(), None, source, search.elapsed())
    log.debug("annealing: %d batches, best %d, current %s (violations %d; %s)", batches,
              ann.best_objective, ann.objective, ann.violations, source)


def start_roster(problem: RosterProblem, plan: Plan, roster: Assignments,
                 pricers: Pricers) -> Assignments:
    """The roster annealing starts from: ``roster`` (the incumbent), or where the plan says
    so (``plan.anneal_from``) every member's own best schedule for their requests."""
    if plan.anneal_from != "requests":
        return roster
    log.debug("annealing starts from the members' own best schedules for their requests")
    return asked_roster(problem, pricers(), roster)


def asked_roster(problem: RosterProblem, pricers: list, fallback: Assignments) -> Assignments:
    """Every member on the schedule that keeps the most of their own shift requests under
    their hard rules (each member's pricing with no cover duals), or their schedule in
    ``fallback`` where the DP finds none: a valid roster whose cover the walk then builds."""
    from actors.solve.colgen import ColumnPool, columns_of, roster_of_columns

    pool = ColumnPool(problem)
    zero = [0.0] * len(problem.cover)
    cols = columns_of(problem, fallback)
    for e, pricer in enumerate(pricers):
        found, _, _ = pricer.price(pool.weights(e, zero), 1.0, 0)
        if found:  # (the DP's come cheapest first, CP-SAT's in the order it found them)
            cols[e] = min(found, key=pool.staff[e].cost)  # (its request penalties)
    return roster_of_columns(problem, cols)


def next_gap(gap: float, base: float, swept: tuple[float, float],
             annealed: tuple[float, float]) -> float:
    """The time to the next sweep: ``base`` while the last sweep's gain a second (``swept``:
    gain, seconds) is at least annealing's since the sweep before (``annealed``), else twice
    ``gap``: sweeps give way where their re-plans are slow or find little."""
    rate = swept[0] / max(1e-6, swept[1])
    return base if rate >= annealed[0] / max(1e-6, annealed[1]) else 2 * gap


class Pricers:
    """A phase's DP pricers (one per member), built on first use: only a sweep or a repair
    needs them, and both share them."""

    def __init__(self, problem: RosterProblem) -> None:
        self.problem = problem
        self.built: list | None = None

    def __call__(self) -> list:
        from actors.solve.colgen import make_pricers

        if self.built is None:
            self.built = make_pricers(self.problem)
        return self.built


class _Sweeps:
    """When the annealing thread's next best-response sweep is due."""

    def __init__(self, search: Search, plan: Plan, seed: int, start: float, span: float,
                 until: float, objective: int, pricers: Pricers) -> None:
        self.search, self.plan, self.seed, self.until = search, plan, seed, until
        self.every = self.gap = plan.anneal_sweep_every * span
        self.cap = plan.anneal_sweep_cap * span
        self.due = start + self.every
        self.mark = (start, objective)  # the last sweep's end: time, annealer's best
        self.pricers = pricers
        self.count = 0

    def maybe(self, ann: Annealer) -> None:
        """One sweep from ``ann``'s best roster if one is due; ``ann`` restarts from a better
        result."""
        from actors.solve.construct import best_responses

        if self.every <= 0 or (began := time.monotonic()) < self.due:
            return
        self.count += 1
        before = ann.best_objective
        beams = self.plan.anneal_sweep_beams or self.plan.sweep_beams
        found = best_responses(self.search.problem, ann.best_roster(), self.pricers(),
                               beams, self.plan.type_limit,
                               self.seed * 1_009 + self.count,
                               min(self.until, began + self.cap), self.search.finished)
        if found is not None:  # (valid, and lower: reset checks it once more)
            ann.reset(found)
        now = time.monotonic()
        self.gap = next_gap(self.gap, self.every, (before - ann.best_objective, now - began),
                            (self.mark[1] - before, began - self.mark[0]))
        self.due, self.mark = now + self.gap, (now, ann.best_objective)


class Repairs:
    """Every ``plan.anneal_repair`` of the phase: when the walk breaks rules and its objective
    is below its best valid roster's, the members who break them are re-planned by best
    response against everyone else (:func:`actors.solve.construct.repaired`), and the walk
    goes on from that roster when it is valid and better than the best. A walk can hold one
    broken rule for the rest of a phase (Instance 22: a shift worked on a fixed day off, whose
    removal breaks a run rule in turn) while its objective falls far below the best valid
    roster, which then never moves."""

    def __init__(self, plan: Plan, seed: int, start: float, span: float,
                 pricers: Pricers | None = None) -> None:
        self.plan, self.seed = plan, seed
        self.every = plan.anneal_repair * span
        self.due = start + self.every
        self.pricers = pricers
        self.count = self.kept = 0

    def maybe(self, ann: Annealer) -> bool:
        """A repair if one is due and the walk needs one; True when the walk restarted from
        it."""
        if self.every <= 0 or time.monotonic() < self.due:
            return False
        self.due = time.monotonic() + self.every
        if ann.violations == 0 or ann.objective >= ann.best_objective:
            return False
        return self._repair(ann)

    def _repair(self, ann: Annealer) -> bool:
        from actors.solve.checker import check_roster
        from actors.solve.construct import repaired

        self.pricers = self.pricers or Pricers(ann.problem)
        self.count += 1
        members = [int(e) for e in np.flatnonzero(ann.h > 0)]
        roster = repaired(ann.problem, ann.roster(), members, self.pricers(),
                          self.plan.sweep_beams, self.plan.type_limit,
                          self.seed * 1_013 + self.count)
        if roster is None:
            return False
        report = check_roster(ann.problem, roster)
        if not report.feasible or report.objective >= ann.best_objective:
            return False
        ann.reset(roster)
        self.kept += 1
        log.debug("annealing: %d members repaired, %d", len(members), report.objective)
        return True
