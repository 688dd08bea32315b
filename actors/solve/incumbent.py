"""The best roster so far, shared by every phase of a solve, and reading a roster off a model.

Every phase (construction, LNS, column generation, dive, exact search) offers its rosters to
one :class:`Incumbent`; the checker (:mod:`actors.solve.checker`) decides what it is worth.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from actors.solve.checker import check_roster
from actors.solve.constraints import RosterModel
from actors.solve.schema import Assignments, RosterProblem


@dataclass
class Incumbent:
    """The best checked roster so far, shared between the searches (thread-safe)."""

    roster: Assignments | None = None
    objective: int | None = None
    source: str = ""
    found_at: float | None = None
    first_at: float | None = None  # when the first roster came
    on_improve: Callable[[int, str], None] | None = None
    rejected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def offer(self, rm: RosterModel | RosterProblem, roster: Assignments, bound: int | None,
              source: str, elapsed: float) -> bool:
        """Keep ``roster`` (of ``rm``'s problem, or of the problem ``rm``) if the checker accepts
        it and it is strictly better.

        ``bound`` is the model's objective for it: the model may count under- and over-cover
        of one row together away from the optimum, so the true (checker's) objective may be
        lower, never higher; a higher one is recorded in ``rejected`` (a model bug). ``None``:
        the roster does not come from the model (column generation); the checker alone judges.
        """
        report = check_roster(getattr(rm, "problem", rm), roster)
        if not report.feasible or (bound is not None and report.objective > bound):
            self.rejected.append(f"{source}: objective {report.objective} vs model {bound}, "
                                 f"violations {[v.message for v in report.violations[:5]]}")
            return False
        with self.lock:
            if self.objective is not None and report.objective >= self.objective:
                return False
            self.roster, self.objective = roster, report.objective
            self.source, self.found_at = source, elapsed
            if self.first_at is None:
                self.first_at = elapsed
            if self.on_improve is not None:
                self.on_improve(report.objective, source)
            return True


def roster_of(rm: RosterModel, value: Callable[[cp_model.IntVar], int]) -> Assignments:
    p = rm.problem
    out: Assignments = {}
    for e, staff in enumerate(p.staff):
        out[staff.id] = [next((sh.id for s, sh in enumerate(p.shifts) if value(rm.x[e, d, s])),
                              None) for d in range(p.horizon.days)]
    return out
