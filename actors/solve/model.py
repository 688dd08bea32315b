"""Solve a roster problem with CP-SAT: progress, cancellation, explanation, checked results.

Entry point: :func:`solve`. Every returned roster has been validated by the independent
checker (:mod:`actors.solve.checker`); the result carries its verdict in ``checked``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from actors.solve.checker import check_roster
from actors.solve.constraints import ModelFlags, RosterModel, build_model
from actors.solve.errors import RosterCheckFailed
from actors.solve.schema import (
    Assignments,
    PenaltyBreakdown,
    RosterProblem,
    SolveOptions,
    SolveProgress,
    SolveResult,
    SolveStatus,
)

ProgressFn = Callable[[SolveProgress], None]
StopFn = Callable[[], bool]

STOP_POLL_S = 0.05


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


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, on_progress: ProgressFn | None, should_stop: StopFn | None) -> None:
        super().__init__()
        self.on_progress = on_progress
        self.should_stop = should_stop
        self.solutions = 0
        self.time_to_best: float | None = None
        self.stopped = False

    def on_solution_callback(self) -> None:
        self.solutions += 1
        self.time_to_best = self.wall_time
        if self.on_progress is not None:
            obj, bound = self.objective_value, self.best_objective_bound
            self.on_progress(SolveProgress(
                objective=round(obj), best_bound=bound, gap=gap_of(obj, bound),
                elapsed_s=self.wall_time, solutions=self.solutions))
        if self.should_stop is not None and self.should_stop():
            self.stopped = True
            self.stop_search()


def _watch(solver: cp_model.CpSolver, cb: _Callback, done: threading.Event) -> None:
    """Poll ``should_stop`` while CP-SAT runs (it may go long without a new solution)."""
    while not done.wait(STOP_POLL_S):
        if cb.should_stop is not None and cb.should_stop():
            cb.stopped = True
            solver.stop_search()
            return


def configure(solver: cp_model.CpSolver, options: SolveOptions, flags: ModelFlags) -> None:
    params = solver.parameters
    params.optimize_with_core = flags.core
    params.max_time_in_seconds = options.time_limit_s
    params.num_workers = options.workers or default_workers()
    params.random_seed = options.seed
    params.relative_gap_limit = options.relative_gap
    params.log_search_progress = False


def add_hints(rm: RosterModel, hint: Assignments | None) -> None:
    """Hint every variable from a previous roster, so a still-valid roster is a full hint."""
    if not hint:
        return
    p = rm.problem
    worked: dict[tuple[int, int], str | None] = {}
    for e, staff in enumerate(p.staff):
        days = list(hint.get(staff.id) or [])[: p.horizon.days]
        days += [None] * (p.horizon.days - len(days))
        for d, shift_id in enumerate(days):
            worked[e, d] = shift_id
            rm.model.add_hint(rm.work[e, d], shift_id is not None)
            for s, shift in enumerate(p.shifts):
                rm.model.add_hint(rm.x[e, d, s], shift_id == shift.id)
    for e, days, flag in rm.weekend_vars:
        rm.model.add_hint(flag, any(worked[e, d] is not None for d in days))
    for row, staff, under, over, short in rm.cover_vars:
        count = sum(1 for e in staff if worked[e, row.day] == row.shift_id)
        rm.model.add_hint(under, max(0, row.requirement - count))
        rm.model.add_hint(over, max(0, count - row.requirement))
        if short is not None:
            rm.model.add_hint(short, count < row.requirement)


def read_roster(rm: RosterModel, solver: cp_model.CpSolver) -> Assignments:
    p = rm.problem
    roster: Assignments = {}
    for e, staff in enumerate(p.staff):
        row: list[str | None] = []
        for d in range(p.horizon.days):
            worked = [sh.id for s, sh in enumerate(p.shifts) if solver.boolean_value(rm.x[e, d, s])]
            row.append(worked[0] if worked else None)
        roster[staff.id] = row
    return roster


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
    """Solve ``problem``; report improving solutions; stop early when ``should_stop()``."""
    started = time.monotonic()
    flags = flags or ModelFlags()
    rm = build_model(problem, flags)
    add_hints(rm, options.hint)
    solver = cp_model.CpSolver()
    configure(solver, options, flags)
    cb = _Callback(on_progress, should_stop)
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(solver, cb, done), daemon=True)
    if should_stop is not None:
        watcher.start()
    try:
        code = solver.solve(rm.model, cb)
    finally:
        done.set()
        if watcher.is_alive():
            watcher.join()
    status = _STATUS.get(code, SolveStatus.UNKNOWN)
    result = SolveResult(status=status, wall_time_s=time.monotonic() - started,
                         solutions=cb.solutions, cancelled=cb.stopped)
    if status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        _fill_solution(result, rm, solver, cb)
    elif status == SolveStatus.INFEASIBLE and not cb.stopped:
        from actors.solve.explain import explain_infeasibility

        result.conflicts = explain_infeasibility(problem, options)
    return result


def _fill_solution(result: SolveResult, rm: RosterModel, solver: cp_model.CpSolver,
                   cb: _Callback) -> None:
    roster = read_roster(rm, solver)
    report = check_roster(rm.problem, roster)
    objective = round(solver.objective_value)
    bound = solver.best_objective_bound
    result.objective = objective
    result.best_bound = bound
    result.gap = gap_of(objective, bound)
    result.time_to_best_s = cb.time_to_best
    result.assignments = roster
    result.penalties = PenaltyBreakdown(**{
        kind: round(sum(solver.value(t) for t in terms)) for kind, terms in rm.penalties.items()
    })
    result.checked = report
    if not report.feasible or report.objective != objective:
        raise RosterCheckFailed(  # a model bug: never hand out an unchecked roster
            f"checker rejects the CP-SAT roster: objective {report.objective} vs {objective}, "
            f"violations {[v.message for v in report.violations[:5]]}")
