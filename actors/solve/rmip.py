"""The restricted master as an integer program: the best roster from the columns known so far.

Column generation, its dive and the LNS's ``lp`` moves leave thousands of schedules in the
pool. Every roster of objective ``<= ub`` is made of schedules whose reduced cost at the root
duals is at most ``ub - L`` (``L`` the root LP bound; see :mod:`actors.solve.fixing`), so only
those columns enter — at most ``RC_CAP`` from it, to keep the program small (the optimum's
schedules on Instance 7 are all within 0.67) — and the incumbent's, SCIP's first solution: one
binary per (member, column), one per member, cover slacks as in the master LP. SCIP (through
OR-tools' linear solver wrapper) branches on that set-partitioning program with the master's
own LP bound; on Instance 7 it finds the optimum 1056 that the
dive and the LNS miss (their 1057 differs from it in 15 of 20 members).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ortools.linear_solver import pywraplp

from actors.solve.colgen import (
    Column,
    ColumnPool,
    LpSolution,
    MasterRows,
    columns_of,
    roster_of_columns,
)
from actors.solve.schema import Assignments

log = logging.getLogger(__name__)
EPS = 1e-6
RC_CAP = 1.0  # columns further than this from the root LP stay out (a smaller program)


class MasterIp:
    """One restricted master IP over ``pool``'s columns within ``min(ub - lp, RC_CAP)`` of the
    root LP (reduced costs at its duals), plus ``roster``'s own as the start."""

    def __init__(self, pool: ColumnPool, root: LpSolution, ub: int,
                 roster: Assignments | None = None) -> None:
        self.problem = pool.problem
        self.solver = pywraplp.Solver.CreateSolver("SCIP")
        if self.solver is None:  # pragma: no cover - OR-tools built without SCIP
            raise RuntimeError("SCIP is not available in this OR-tools build")
        self.z: list[dict[Column, pywraplp.Variable]] = []
        slack = min(ub - root.value, RC_CAP) + EPS
        own = columns_of(self.problem, roster) if roster is not None else None
        for e, cols in enumerate(pool.columns):
            z = {col: self.solver.BoolVar("") for col in cols
                 if pool.reduced_cost(e, col, root) <= slack}
            if own is not None and own[e] not in z:
                z[own[e]] = self.solver.BoolVar("")
            self.z.append(z)
        rows = MasterRows(self.solver, self.problem, pool.staff)
        for e, z in enumerate(self.z):
            for col, var in z.items():
                rows.add(e, col, var)
        if roster is not None:
            self._hint(own)

    @property
    def size(self) -> int:
        return sum(len(z) for z in self.z)

    def _hint(self, cols: list[Column]) -> None:
        """Start from the roster of these schedules (the incumbent: SCIP's first solution)."""
        pairs = [(var, 1.0 if c == col else 0.0)
                 for col, z in zip(cols, self.z, strict=True) for c, var in z.items()]
        self.solver.SetHint([v for v, _ in pairs], [x for _, x in pairs])

    def solve(self, limit_s: float) -> tuple[Assignments, int] | None:
        """The best roster found within ``limit_s`` (None: none, or a member without a
        column)."""
        if any(not z for z in self.z):
            return None
        self.solver.SetTimeLimit(max(1, int(limit_s * 1000)))
        code = self.solver.Solve()
        if code not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
            return None
        cols = [max(z, key=lambda col, z=z: z[col].solution_value()) for z in self.z]
        return (roster_of_columns(self.problem, cols),
                round(self.solver.Objective().Value()))

    def interrupt(self) -> None:
        self.solver.InterruptSolve()


def best_from_pool(pool: ColumnPool, root: LpSolution, ub: int, roster: Assignments | None,
                   until: float, register: Callable[[Callable[[], None]], None] | None = None,
                   stopped: Callable[[], bool] = lambda: False
                   ) -> tuple[Assignments, int] | None:
    """The restricted master IP's best roster by ``until`` (``register`` gets its interrupt,
    for a stop from another thread; ``stopped()`` is asked once that is in place)."""
    started = time.monotonic()
    ip = MasterIp(pool, root, ub, roster)
    if register is not None:
        register(ip.interrupt)
    if stopped():
        return None
    found = ip.solve(until - time.monotonic())
    log.debug("master IP over %d columns: %s in %.1f s", ip.size,
              None if found is None else found[1], time.monotonic() - started)
    return found
