"""State shared by a solve's threads: the checked incumbent, the bound, the stoppers, and the
exact search's restart requests (imported by :mod:`actors.solve.model` and
:mod:`actors.solve.primal`, which do not import each other)."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from actors.solve.constraints import RosterModel
from actors.solve.fixing import Fixing
from actors.solve.incumbent import Incumbent
from actors.solve.schema import Assignments, RosterProblem, SolveProgress

log = logging.getLogger(__name__)
ProgressFn = Callable[[SolveProgress], None]


def gap_of(objective: float, bound: float) -> float | None:
    """Relative gap ``(objective - bound) / |objective|``; 0 when both are 0."""
    if objective == bound:
        return 0.0
    if objective == 0:
        return None
    return abs(objective - bound) / abs(objective)


class Search:
    """State shared by the construction, the exact search, the LNS and the progress reports.
    ``rm`` is the exact search's model (None until built, and when the plan has none)."""

    def __init__(self, problem: RosterProblem, on_progress: ProgressFn | None, started: float,
                 rm: RosterModel | None = None) -> None:
        self.problem, self.rm, self.on_progress, self.started = problem, rm, on_progress, started
        self.bound: float = 0.0
        self.bound_moved_at = 0.0
        self.solutions = 0
        self.stopped = False  # cancelled (should_stop)
        self.over = False  # the exact search ended with a proof
        self.infeasible: list[str] = []  # members the construction proved without a schedule
        self.stoppers: list[Callable[[], None]] = []
        self.inc = Incumbent(on_improve=self._improved)
        self.guide: Callable[[Assignments], list[float]] | None = None
        self.exact_best: int | None = None  # the exact search's own best objective
        self.exact = None  # the exact search's current CpSolver
        self.restart = threading.Event()  # set: restart it from the incumbent
        self.restarts = 0
        self.fixing: Fixing | None = None  # ... restricted to rosters better than that
        self.cap = math.inf  # the restricted search's bounds hold below this

    def stop_exact(self) -> None:
        solver = self.exact
        if solver is not None:
            solver.stop_search()

    def restart_exact(self, fixing: Fixing | None = None) -> None:
        """Restart the exact search when the incumbent is better than anything it found
        itself: restricted by reduced-cost ``fixing`` to rosters better than the incumbent
        (again each time a tighter one comes: it proves Instances 5 and 6 optimal in 10-20 s
        where the plain search needs 50 s or more), else — once — with the incumbent as its
        hint."""
        obj = self.inc.objective
        if self.rm is None or self.restart.is_set() or obj is None or (
                self.exact_best is not None and self.exact_best <= obj):
            return
        if fixing is None and self.restarts:
            return
        if fixing is not None and fixing.ub + 1 >= self.cap:
            return
        self.fixing = fixing
        self.restart.set()
        self.stop_exact()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _improved(self, objective: int, source: str) -> None:
        at = self.elapsed()
        log.debug("%s: %d at %.1f s", source, objective, at,
                  extra={"improvement": (at, objective, source)})
        self.solutions += 1
        if self.on_progress is not None:
            self.on_progress(SolveProgress(
                objective=objective, best_bound=self.bound, gap=gap_of(objective, self.bound),
                elapsed_s=self.elapsed(), solutions=self.solutions))
        if self.bound > objective - 1 + 1e-6:  # it meets the bound: proved, all stop
            self.stop_all()

    def finished(self) -> bool:
        return self.stopped or self.over or self.proved() or bool(self.infeasible)

    def proved(self) -> bool:
        obj = self.inc.objective
        return obj is not None and self.bound > obj - 1 + 1e-6

    def on_bound(self, bound: float) -> None:
        bound = min(bound, self.cap)  # a restricted search's bound: no roster below ub + 1
        if bound > self.bound:
            self.bound, self.bound_moved_at = bound, self.elapsed()
        if self.proved():
            self.stop_all()

    def stop_all(self) -> None:
        for stop in list(self.stoppers):
            stop()
