"""Solve a roster problem: the plan's phases on their threads, progress, cancellation,
explanation, checked results.

Entry point: :func:`solve`. Every returned roster has been validated by the independent
checker (:mod:`actors.solve.checker`); the result carries its verdict in ``checked`` and the
plan's notes (what the size of the problem left out) in ``notes``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from actors.solve.checker import check_roster
from actors.solve.constraints import ModelFlags, build_model
from actors.solve.errors import RosterCheckFailed
from actors.solve.fixing import apply_fixing
from actors.solve.hints import add_hints
from actors.solve.incumbent import roster_of
from actors.solve.plan import Plan, make_plan
from actors.solve.primal import primal, second_lns
from actors.solve.sa_phase import anneal_phase
from actors.solve.schema import (
    Assignments,
    RosterProblem,
    SolveOptions,
    SolveResult,
    SolveStatus,
)
from actors.solve.search import ProgressFn, Search, gap_of

log = logging.getLogger(__name__)
StopFn = Callable[[], bool]

STOP_POLL_S = 0.05
JOIN_MARGIN = 0.03  # after the deadline, threads get this share of the limit (>= 1 s) to end
__all__ = ["Search", "default_workers", "gap_of", "solve"]


def default_workers() -> int:
    """The cores this process may run on (the pool's share of the machine)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, search: Search, should_stop: StopFn | None) -> None:
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


def _watch(search: Search, should_stop: StopFn, done: threading.Event) -> None:
    """Poll ``should_stop`` while the searches run (they may go long without a solution)."""
    while not done.wait(STOP_POLL_S):
        if should_stop():  # again on every poll: a restarted exact search must stop too
            search.stopped = True
            search.stop_all()


def _stalled(search: Search, stall_s: float = 15.0, stall_gap: float = 0.02) -> bool:
    """The (positive) bound has not moved for ``stall_s`` and the gap is still wider than
    ``stall_gap``: the exact search will not close it, the core is better used elsewhere.

    (A hand-over at 10 s whenever the gap was over 5 % was tried with column generation to
    follow: it also took the core from Instance 5, whose exact search finds and proves 1143
    late, and left it at 1239.)"""
    obj = search.inc.objective
    if obj is None or search.bound <= 0 or search.elapsed() - search.bound_moved_at < stall_s:
        return False
    gap = gap_of(obj, search.bound)
    return gap is None or gap > stall_gap


def _watch_stall(search: Search, plan: Plan, done: threading.Event,
                 handed: threading.Event) -> None:
    """Stop the exact search (its core goes to a second LNS) once its bound stalls."""
    while not done.wait(0.25):
        if _stalled(search, plan.stall_s, plan.stall_gap):
            handed.set()
            search.stop_exact()
            return


def configure(solver: cp_model.CpSolver, options: SolveOptions, plan: Plan,
              workers: int) -> None:
    params = solver.parameters
    params.optimize_with_core = plan.core
    params.max_time_in_seconds = options.time_limit_s
    params.num_workers = workers
    if workers <= 2 and plan.max_lp:
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
    plan: Plan | None = None,
) -> SolveResult:
    """Solve ``problem`` by the plan :func:`~actors.solve.plan.make_plan` makes for it
    (``plan``: the base to scale, ``flags``: its model flags); report improving solutions;
    stop early when ``should_stop()``.

    The primal thread constructs a first roster at once, then (two or more workers) runs
    column generation and the LNS; the main thread builds the full model and runs CP-SAT's
    exact search on the other workers (or, when the plan has none, a second LNS). The best
    checked roster wins; CP-SAT's or column generation's bound proves it optimal.
    """
    started = time.monotonic()
    base = plan or Plan()
    if flags is not None:
        from dataclasses import replace

        base = replace(base, flags=flags)
    plan = make_plan(problem, options, base)
    search = Search(problem, on_progress, started)
    _offer_hint(search, options.hint)
    workers = options.workers or default_workers()
    with_lns = plan.lns and workers >= 2
    deadline = started + options.time_limit_s
    done, handed = threading.Event(), threading.Event()
    threads = [threading.Thread(target=primal, daemon=True,
                                args=(search, plan, options, deadline, with_lns))]
    if should_stop is not None:
        threads.append(threading.Thread(target=_watch, args=(search, should_stop, done),
                                        daemon=True))
    for t in threads:
        t.start()
    solver, code = None, cp_model.UNKNOWN
    try:
        if plan.exact:
            solver, code = _run_exact(search, plan, options, workers - with_lns, with_lns,
                                      should_stop, deadline, done, handed)
            if code == cp_model.OPTIMAL or (code == cp_model.INFEASIBLE and not search.restarts):
                search.over = True  # proved, or no roster exists: the primal thread ends too
                search.stop_all()
        if (not plan.exact or handed.is_set()) and with_lns and code not in (
                cp_model.OPTIMAL, cp_model.INFEASIBLE):
            if plan.anneals:
                anneal_phase(search, plan, options.seed + 1,
                             started + plan.anneal_end * options.time_limit_s)
            second_lns(search, plan, options.seed + 1, deadline)
        threads[0].join(max(0.0, deadline - time.monotonic()))
    finally:
        done.set()
        search.stop_all()  # the LNS, and a master IP still running in its thread
        grace = max(1.0, JOIN_MARGIN * options.time_limit_s)
        for t in threads:
            t.join(max(0.0, deadline + grace - time.monotonic()))
    return _result(search, solver, code, options, plan)


def _run_exact(search: Search, plan: Plan, options: SolveOptions, workers: int,
               with_lns: bool, should_stop: StopFn | None, deadline: float,
               done: threading.Event,
               handed: threading.Event) -> tuple[cp_model.CpSolver | None, int]:
    """Build the full model (hinted only by the caller's roster) and run the exact search."""
    rm = build_model(search.problem, plan.flags)
    if search.finished() or deadline - time.monotonic() < 0.5:
        return None, cp_model.UNKNOWN
    add_hints(rm, options.hint)  # not the construction's roster: a poor hint steers CP-SAT's
    # own first solutions (Instance 8 at 60 s: 1310 and 1325 hinted, against 1302-1307 before);
    # it gets the incumbent later, by a restart, once that beats its own (restart_exact)
    search.rm = rm
    search.stoppers.append(search.stop_exact)
    if with_lns and plan.lns_handover and workers == 1:
        threading.Thread(target=_watch_stall, daemon=True,
                         args=(search, plan, done, handed)).start()
    return _exact(search, options, plan, workers, should_stop, deadline, handed)


def _exact(search: Search, options: SolveOptions, plan: Plan, workers: int,
           should_stop: StopFn | None, deadline: float,
           handed: threading.Event) -> tuple[cp_model.CpSolver, int]:
    """The exact search on the full model; restarted below the incumbent (or from it as its
    hint) when :meth:`Search.restart_exact` asks and it has neither finished nor been handed
    over."""
    rm = search.rm
    prev: tuple[cp_model.CpSolver, int] | None = None
    while True:
        solver = cp_model.CpSolver()
        left = max(0.05, deadline - time.monotonic())
        configure(solver, options.model_copy(update={"time_limit_s": left}), plan, workers)
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


def _restrict(search: Search) -> None:
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


def _offer_hint(search: Search, hint: Assignments | None) -> None:
    """A previous roster that is still valid is the first incumbent."""
    p = search.problem
    if not hint or set(hint) != {s.id for s in p.staff}:
        return
    if any(len(days) != p.horizon.days for days in hint.values()):
        return
    report = check_roster(p, hint)
    if report.feasible:
        search.inc.offer(p, dict(hint), report.objective, "hint", 0.0)


def _infeasible(search: Search, options: SolveOptions, plan: Plan,
                members: list[str] | None) -> SolveResult:
    """No roster exists: the conflicting constraint groups, within the time left (those of
    the members the construction found without a valid schedule, when it did)."""
    from actors.solve.explain import explain_infeasibility

    result = SolveResult(status=SolveStatus.INFEASIBLE, wall_time_s=search.elapsed(),
                         cancelled=search.stopped, notes=list(plan.notes))
    if search.stopped:
        return result
    problem = search.problem
    if members:
        problem = problem.model_copy(update={
            "staff": [s for s in problem.staff if s.id in members], "cover": [],
            "shift_on_requests": [], "shift_off_requests": []})
    left = options.time_limit_s - search.elapsed()
    budget = max(1.0, min(plan.explain_s, left))
    result.conflicts = explain_infeasibility(
        problem, options.model_copy(update={"time_limit_s": budget})) or [
        f"staff {m}: no schedule meets all of their own rules together" for m in members or []]
    result.wall_time_s = search.elapsed()
    return result


def _result(search: Search, solver: cp_model.CpSolver | None, code: int,
            options: SolveOptions, plan: Plan) -> SolveResult:
    if search.inc.rejected:  # a model bug: never hand out an unchecked roster
        raise RosterCheckFailed(f"checker rejects a roster: {search.inc.rejected[0]}")
    status = _STATUS.get(code, SolveStatus.UNKNOWN)
    inc = search.inc
    notes = list(plan.notes)
    if inc.roster is None and (search.infeasible or status == SolveStatus.INFEASIBLE):
        return _infeasible(search, options, plan, search.infeasible or None)
    if inc.roster is None:
        return SolveResult(status=SolveStatus.UNKNOWN if status != SolveStatus.MODEL_INVALID
                           else status, wall_time_s=search.elapsed(), cancelled=search.stopped,
                           notes=notes)
    if solver is not None and status != SolveStatus.UNKNOWN:
        search.on_bound(solver.best_objective_bound)
    optimal = status == SolveStatus.OPTIMAL or search.proved()
    bound = float(inc.objective) if optimal else min(search.bound, float(inc.objective))
    report = check_roster(search.problem, inc.roster)
    return SolveResult(
        status=SolveStatus.OPTIMAL if optimal else SolveStatus.FEASIBLE,
        objective=inc.objective, best_bound=bound, gap=gap_of(inc.objective, bound),
        wall_time_s=search.elapsed(), time_to_best_s=inc.found_at,
        time_to_first_s=inc.first_at, solutions=search.solutions, cancelled=search.stopped,
        assignments=inc.roster, penalties=report.penalties, checked=report, notes=notes)
