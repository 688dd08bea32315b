"""Solve a roster problem with CP-SAT: progress, cancellation, explanation, checked results.

Entry point: :func:`solve`. Every returned roster has been validated by the independent
checker (:mod:`actors.solve.checker`); the result carries its verdict in ``checked``.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from actors.solve.checker import check_roster
from actors.solve.constraints import ModelFlags, RosterModel, build_model
from actors.solve.errors import RosterCheckFailed
from actors.solve.fixing import Fixing, apply_fixing
from actors.solve.hints import add_hints
from actors.solve.lns import Incumbent, roster_of
from actors.solve.primal import after_handover, lns_worker, primal
from actors.solve.schema import (
    Assignments,
    RosterProblem,
    SolveOptions,
    SolveProgress,
    SolveResult,
    SolveStatus,
)

log = logging.getLogger(__name__)
ProgressFn = Callable[[SolveProgress], None]
StopFn = Callable[[], bool]

STOP_POLL_S = 0.05
STALL_S = 15.0  # the exact search hands its core to a second LNS when its bound has not
STALL_GAP = 0.02  # moved for this long and the gap to the incumbent is still this wide


def default_workers() -> int:
    """The cores this process may run on (the pool's share of the machine)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def gap_of(objective: float, bound: float) -> float | None:
    """Relative gap ``(objective - bound) / |objective|``; 0 when both are 0."""
    if objective == bound:
        return 0.0
    if objective == 0:
        return None
    return abs(objective - bound) / abs(objective)


class _Search:
    """State shared by the exact search, the LNS worker and the progress reports."""

    def __init__(self, rm: RosterModel, on_progress: ProgressFn | None, started: float) -> None:
        self.rm, self.on_progress, self.started = rm, on_progress, started
        self.bound: float = 0.0
        self.bound_moved_at = 0.0
        self.solutions = 0
        self.stopped = False
        self.stoppers: list[Callable[[], None]] = []
        self.inc = Incumbent(on_improve=self._improved)
        self.guide: Callable[[Assignments], list[float]] | None = None
        self.exact_best: int | None = None  # the exact search's own best objective
        self.exact: cp_model.CpSolver | None = None  # the exact search's current solver
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
        if self.restart.is_set() or obj is None or (
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
        log.debug("%s: %d at %.1f s", source, objective, self.elapsed())
        self.solutions += 1
        if self.on_progress is not None:
            self.on_progress(SolveProgress(
                objective=objective, best_bound=self.bound, gap=gap_of(objective, self.bound),
                elapsed_s=self.elapsed(), solutions=self.solutions))

    def finished(self) -> bool:
        return self.stopped or self.proved()

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
        for stop in self.stoppers:
            stop()


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, search: _Search, should_stop: StopFn | None) -> None:
        super().__init__()
        self.search = search
        self.should_stop = should_stop

    def on_solution_callback(self) -> None:
        s = self.search
        s.on_bound(self.best_objective_bound)
        value = round(self.objective_value)
        s.exact_best = value if s.exact_best is None else min(s.exact_best, value)
        s.inc.offer(s.rm, roster_of(s.rm, self.boolean_value), value, "cp-sat", s.elapsed())
        if s.proved():
            s.stop_all()
        if self.should_stop is not None and self.should_stop():
            s.stopped = True
            s.stop_all()


def _watch(search: _Search, should_stop: StopFn, done: threading.Event) -> None:
    """Poll ``should_stop`` while the searches run (they may go long without a solution)."""
    while not done.wait(STOP_POLL_S):
        if should_stop():  # again on every poll: a restarted exact search must stop too
            search.stopped = True
            search.stop_all()


def _stalled(search: _Search, stall_s: float = STALL_S, stall_gap: float = STALL_GAP) -> bool:
    """The (positive) bound has not moved for ``STALL_S`` and the gap is still wider than
    ``STALL_GAP``: the exact search will not close it, the core is better used elsewhere.

    (A hand-over at 10 s whenever the gap was over 5 % was tried with column generation to
    follow: it also took the core from Instance 5, whose exact search finds and proves 1143
    late, and left it at 1239.)"""
    obj = search.inc.objective
    if obj is None or search.bound <= 0 or search.elapsed() - search.bound_moved_at < stall_s:
        return False
    gap = gap_of(obj, search.bound)
    return gap is None or gap > stall_gap


def _watch_stall(search: _Search, stop_exact: Callable[[], None], done: threading.Event,
                 handed: threading.Event) -> None:
    """Stop the exact search (its core goes to a second LNS) once its bound stalls."""
    while not done.wait(0.25):
        if _stalled(search):
            handed.set()
            stop_exact()
            return


def configure(solver: cp_model.CpSolver, options: SolveOptions, flags: ModelFlags,
              workers: int) -> None:
    params = solver.parameters
    params.optimize_with_core = flags.core
    params.max_time_in_seconds = options.time_limit_s
    params.num_workers = workers
    if workers <= 2 and flags.max_lp:
        params.subsolvers.append("max_lp")  # one full LP worker (+ CP-SAT's own LNS if 2)
    params.random_seed = options.seed
    params.relative_gap_limit = options.relative_gap
    params.log_search_progress = False


_STATUS = {
    cp_model.OPTIMAL: SolveStatus.OPTIMAL,
    cp_model.FEASIBLE: SolveStatus.FEASIBLE,
    cp_model.INFEASIBLE: SolveStatus.INFEASIBLE,
    cp_model.MODEL_INVALID: SolveStatus.MODEL_INVALID,
}


def solve(
    problem: RosterProblem,
    options: SolveOptions,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    flags: ModelFlags | None = None,
) -> SolveResult:
    """Solve ``problem``; report improving solutions; stop early when ``should_stop()``.

    With two or more workers (and ``flags.lns``) one of them runs the staff/day LNS of
    :mod:`actors.solve.lns` beside CP-SAT's exact search; the best checked roster wins and
    CP-SAT's bound proves it optimal.
    """
    started = time.monotonic()
    flags = flags or ModelFlags()
    rm = build_model(problem, flags)
    search = _Search(rm, on_progress, started)
    _offer_hint(search, options.hint)
    add_hints(rm, options.hint)
    workers = options.workers or default_workers()
    lns = None
    if flags.lns and workers >= 2:
        lns = lns_worker(problem, flags, search, options.seed, started)
        workers -= 1
    search.stoppers.append(search.stop_exact)
    threads = []
    done, handed = threading.Event(), threading.Event()
    deadline = started + options.time_limit_s
    if lns is not None:
        search.stoppers.append(lns.stop)
        threads.append(threading.Thread(target=primal, daemon=True,
                                        args=(search, lns, flags, options, deadline)))
        if flags.lns_handover and workers == 1:
            threads.append(threading.Thread(target=_watch_stall, daemon=True,
                                            args=(search, search.stop_exact, done, handed)))
    if should_stop is not None:
        threads.append(threading.Thread(target=_watch, args=(search, should_stop, done),
                                        daemon=True))
    for t in threads:
        t.start()
    try:
        solver, code = _exact(search, options, flags, workers, should_stop, deadline, handed)
        if handed.is_set() and code not in (cp_model.OPTIMAL, cp_model.INFEASIBLE):
            after_handover(problem, flags, search, options.seed + 1, started, deadline)
    finally:
        done.set()
        search.stop_all()  # the LNS, and a master IP still running in its thread
        for t in threads:
            t.join()
    return _result(search, solver, code, options)


def _exact(search: _Search, options: SolveOptions, flags: ModelFlags, workers: int,
           should_stop: StopFn | None, deadline: float,
           handed: threading.Event) -> tuple[cp_model.CpSolver, int]:
    """The exact search on the full model; restarted below the incumbent (or from it as its
    hint) when :meth:`_Search.restart_exact` asks and it has neither finished nor been handed
    over."""
    rm = search.rm
    prev: tuple[cp_model.CpSolver, int] | None = None
    while True:
        solver = cp_model.CpSolver()
        left = max(0.05, deadline - time.monotonic())
        configure(solver, options.model_copy(update={"time_limit_s": left}), flags, workers)
        solver.best_bound_callback = search.on_bound
        search.exact = solver
        if search.finished():  # a stop that came between two solves
            return prev or (solver, cp_model.UNKNOWN)
        code = solver.solve(rm.model, _Callback(search, should_stop))
        prev = solver, code
        if search.restarts and code == cp_model.INFEASIBLE:  # nothing better than the cap
            search.on_bound(search.cap)
        if (not search.restart.is_set() or handed.is_set() or search.finished()
                or code in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
                or deadline - time.monotonic() < 1.0):
            return solver, code
        _restrict(search)


def _restrict(search: _Search) -> None:
    """Ready the exact search's model for its restart: reduced-cost fixed below the
    incumbent at the time of the request, or (no fixing) hinted by the incumbent."""
    rm, fixing = search.rm, search.fixing
    rm.model.clear_hints()
    search.restarts += 1
    search.restart.clear()
    if fixing is not None:
        apply_fixing(rm, fixing)
        search.cap = fixing.ub + 1
        log.debug("exact search restarts below %d at %.1f s, %d cells fixed", fixing.ub + 1,
                  search.elapsed(), len(fixing.banned))
        return
    with search.inc.lock:
        roster = search.inc.roster
    add_hints(rm, roster)
    log.debug("exact search restarts from %s at %.1f s", search.inc.objective,
              search.elapsed())


def _offer_hint(search: _Search, hint: Assignments | None) -> None:
    """A previous roster that is still valid is the first incumbent."""
    p = search.rm.problem
    if not hint or set(hint) != {s.id for s in p.staff}:
        return
    if any(len(days) != p.horizon.days for days in hint.values()):
        return
    report = check_roster(p, hint)
    if report.feasible:
        search.inc.offer(search.rm, dict(hint), report.objective, "hint", 0.0)


def _result(search: _Search, solver: cp_model.CpSolver, code: int,
            options: SolveOptions) -> SolveResult:
    if search.inc.rejected:  # a model bug: never hand out an unchecked roster
        raise RosterCheckFailed(f"checker rejects a CP-SAT roster: {search.inc.rejected[0]}")
    status = _STATUS.get(code, SolveStatus.UNKNOWN)
    inc = search.inc
    if status == SolveStatus.INFEASIBLE and inc.roster is None:
        result = SolveResult(status=status, wall_time_s=search.elapsed(), cancelled=search.stopped)
        if not search.stopped:
            from actors.solve.explain import explain_infeasibility

            result.conflicts = explain_infeasibility(search.rm.problem, options)
        return result
    if inc.roster is None:
        return SolveResult(status=SolveStatus.UNKNOWN if status != SolveStatus.MODEL_INVALID
                           else status, wall_time_s=search.elapsed(), cancelled=search.stopped)
    search.on_bound(solver.best_objective_bound if status != SolveStatus.UNKNOWN else 0.0)
    optimal = status == SolveStatus.OPTIMAL or search.proved()
    bound = float(inc.objective) if optimal else min(search.bound, float(inc.objective))
    report = check_roster(search.rm.problem, inc.roster)
    return SolveResult(
        status=SolveStatus.OPTIMAL if optimal else SolveStatus.FEASIBLE,
        objective=inc.objective, best_bound=bound, gap=gap_of(inc.objective, bound),
        wall_time_s=search.elapsed(), time_to_best_s=inc.found_at, solutions=search.solutions,
        cancelled=search.stopped, assignments=inc.roster, penalties=report.penalties,
        checked=report)
