"""Reduced-cost fixing: the cells no roster within a given objective can use.

For cover duals ``y`` clipped to ``[-weight_over, weight_under]`` every roster ``R`` has

    objective(R) >= L(y) + sum over members e of (c_e(col_e) - low_e)

where ``c_e(col)`` is member e's schedule cost minus the duals of the cover rows it counts
towards, ``low_e`` the cheapest such cost over every valid schedule (the exact DP pricing of
:mod:`actors.solve.pricing`) and ``L(y)`` the Lagrangian bound. So in a roster of objective at
most ``ub`` no member's schedule costs more than ``ub - L(y)`` above their cheapest one, and a
cell (member, day, shift or day off) whose cheapest schedule through it costs more than that is
in no such roster: the exact search may drop it. The LP is within a few points of the optimum
on the benchmark (1054.08 against 1056 on Instance 7), so most cells go.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from actors.solve.colgen import ColumnPool, LpSolution, clipped_duals
from actors.solve.constraints import RosterModel
from actors.solve.pricing import DpPricer, weight_matrix

EPS = 1e-6
SCALE = 1000  # the cuts' weights are the cell costs x SCALE, rounded down


@dataclass
class Fixing:
    """Cells no roster of objective ``<= ub`` uses: ``(member, day, shift)``, shift -1 for a day
    off (the member works that day)."""

    ub: int
    bound: float  # L(y): the Lagrangian bound of the duals used
    banned: list[tuple[int, int, int]] = field(default_factory=list)
    cuts: list[tuple[int, np.ndarray, int]] = field(default_factory=list)  # see apply_fixing

    def share(self, cells: int) -> float:
        """The share of ``cells`` (member-day-options) banned."""
        return len(self.banned) / cells if cells else 0.0


def reduced_cost_fixing(pool: ColumnPool, pricers: list, sol: LpSolution,
                        ub: int, until: float = math.inf) -> Fixing | None:
    """The cells no roster of objective ``<= ub`` uses, by the duals of ``sol``; None when a
    member is priced by CP-SAT (no forced-cell costs) or has no valid schedule, or when, at
    the pace of the members done so far, it would not end by ``until`` (it takes a DP per
    member, day and shift: 33 s for Instance 12's 60 members on a slow VM)."""
    if not all(isinstance(pr, DpPricer) for pr in pricers):
        return None
    p = pool.problem
    duals = clipped_duals(p, sol)
    bound = sum(y * c.requirement for y, c in zip(duals, p.cover, strict=True))
    forced, cuts = [], []
    began = time.monotonic()
    for e, pricer in enumerate(pricers):
        if e and began + (time.monotonic() - began) * len(pricers) / e > until:
            return None
        w = weight_matrix(pool.weights(e, duals), p.horizon.days, len(p.shifts))
        costs = pricer.forced_costs(w)
        low = float(costs.min())
        if not np.isfinite(low):
            return None
        bound += low + sum(pool.staff[e].on.values())
        forced.append(costs - low)
        scaled = np.floor(w * SCALE)  # integer weights: their own exact minimum is the cut's
        cuts.append((e, scaled.astype(np.int64), int(pricer.price_matrix(scaled, 1)[1])))
    slack = ub - bound + EPS
    fixing = Fixing(ub=ub, bound=bound, cuts=cuts)
    n_shifts = len(p.shifts)
    for e, excess in enumerate(forced):
        for d, o in zip(*np.nonzero(excess > slack), strict=True):
            fixing.banned.append((e, int(d), int(o) if o < n_shifts else -1))
    return fixing


def apply_fixing(rm: RosterModel, fixing: Fixing) -> None:
    """Restrict ``rm``'s model to rosters of objective ``<= fixing.ub``: the banned cells go,
    the objective gets that cutoff, and each member gets the cut ``sum(W x) >= low`` (their
    schedule's scaled cell costs are at least the cheapest schedule's), so the model's LP
    bound is the Lagrangian one instead of the cell model's (951 against 1054 on Instance 7).
    """
    m = rm.model
    for e, d, s in fixing.banned:
        m.add(rm.x[e, d, s] == 0 if s >= 0 else rm.work[e, d] == 1)
    days, shifts = rm.problem.horizon.days, len(rm.problem.shifts)
    for e, w, low in fixing.cuts if rm.cutoff is None else []:
        terms = [int(w[d, s]) * rm.x[e, d, s] for d in range(days) for s in range(shifts)
                 if w[d, s] != 0]
        if terms:
            m.add(sum(terms) >= low)
    m.add(rm.objective() <= fixing.ub)
    rm.cutoff = fixing.ub if rm.cutoff is None else min(rm.cutoff, fixing.ub)
