"""Explain an infeasible roster problem by naming conflicting constraint groups.

Every hard constraint group ("staff E: min total minutes", "staff E: days off", ...) gets an
enforcement literal that is passed to CP-SAT as an assumption; the solver's
``sufficient_assumptions_for_infeasibility`` gives a conflicting subset, which is then shrunk
by deletion (drop a group, re-solve, keep it dropped while still infeasible) within a budget.
"""

from __future__ import annotations

import time

from ortools.sat.python import cp_model

from actors.solve.constraints import ModelFlags, build_model
from actors.solve.schema import RosterProblem, SolveOptions

MINIMISE_BUDGET_S = 10.0


def _infeasible_with(problem: RosterProblem, groups: set[str] | None, limit_s: float,
                     seed: int) -> tuple[bool, list[str]]:
    """Solve with only ``groups`` (None: all) enforced; return (infeasible, core names)."""
    rm = build_model(problem, ModelFlags(groups=True))
    names = {lit.index: name for name, lit in rm.group_literals.items()}
    assumed = [lit for name, lit in rm.group_literals.items() if groups is None or name in groups]
    rm.model.add_assumptions(assumed)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, limit_s)
    solver.parameters.num_workers = 1  # assumptions cores come from the single-thread search
    solver.parameters.random_seed = seed
    solver.parameters.linearization_level = 2  # long horizons: runs and minimums in the LP
    status = solver.solve(rm.model)
    if status != cp_model.INFEASIBLE:
        return False, []
    core = [names[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in names]
    return True, sorted(core)


def explain_infeasibility(problem: RosterProblem, options: SolveOptions) -> list[str]:
    """Names of constraint groups that cannot all hold together (empty if none found)."""
    deadline = time.monotonic() + min(options.time_limit_s, MINIMISE_BUDGET_S)
    infeasible, core = _infeasible_with(problem, None, options.time_limit_s, options.seed)
    if not infeasible:
        return []
    if not core:
        return ["structure: at most one shift per staff member per day"]
    kept = list(core)
    for name in core:
        left = deadline - time.monotonic()
        if left <= 0 or len(kept) == 1:
            break
        if name not in kept:
            continue
        trial = {n for n in kept if n != name}
        still, smaller = _infeasible_with(problem, trial, left, options.seed)
        if still:
            kept = smaller or sorted(trial)
    return kept
