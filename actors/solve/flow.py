"""Per-staff network-flow encoding of the run and weekend rules (a redundant extended model).

For one staff member the valid work/rest patterns are the paths of a layered graph: a node per
day and state of the run automaton (max/min consecutive shifts, min consecutive days off) with
the weekends worked so far (see :class:`actors.solve.windows._Walk`), fixed days off removed.
One boolean per arc, flow conservation as linear equalities and ``work[d]`` equal to the flow on
the day's working arcs: the LP of a network flow is integral, so the LP relaxation sees the
convex hull of the member's valid patterns instead of a weak mix of windows and clauses.
"""

from __future__ import annotations

from collections import defaultdict

from ortools.sat.python import cp_model

from actors.solve.schema import Staff
from actors.solve.windows import State, _Walk

Arc = tuple[int, State, int]  # (day, source state, label 1 = work)


class _CountWalk:
    """The run/weekend walk with the number of days worked so far, kept within ``[lo, hi]``."""

    def __init__(self, staff: Staff, days: int, first_weekday: int, lo: int, hi: int) -> None:
        self.walk = _Walk(staff, days, first_weekday)
        self.days, self.lo, self.hi = days, lo, hi
        self.start = (self.walk.start, 0, False, 0)

    def step(self, state: tuple, day: int, label: int) -> tuple | None:
        t = self.walk.step(state[:3], day, label)
        count = state[3] + label
        if t is None or count > self.hi or count + (self.days - day - 1) < self.lo:
            return None
        return (*t, count)

    def reachable(self) -> list[set]:
        fwd: list[set] = [{self.start}]
        for d in range(self.days):
            fwd.append({t for s in fwd[d] for lab in (0, 1) if (t := self.step(s, d, lab))})
        alive: list[set] = [set() for _ in range(self.days + 1)]
        alive[self.days] = {s for s in fwd[self.days] if s[3] >= self.lo}
        for d in range(self.days - 1, -1, -1):
            alive[d] = {s for s in fwd[d]
                        if any(self.step(s, d, lab) in alive[d + 1] for lab in (0, 1))}
        return alive


def _walker(staff: Staff, days: int, first_weekday: int, counts: tuple[int, int] | None):
    if counts is None:
        return _Walk(staff, days, first_weekday)
    return _CountWalk(staff, days, first_weekday, *counts)


def add_pattern_flow(model: cp_model.CpModel, staff: Staff, work: list[cp_model.IntVar],
                     first_weekday: int, prefix: str,
                     counts: tuple[int, int] | None = None) -> dict[Arc, cp_model.IntVar]:
    """Add the flow for one member over ``work``; return the arc literals (for hints).

    ``counts``: the least and most days worked, tracked in the state when given.
    """
    days = len(work)
    walk = _walker(staff, days, first_weekday, counts)
    alive = walk.reachable()
    if not alive[0]:
        return {}  # no valid pattern: the plain constraints make the model infeasible
    arcs: dict[Arc, cp_model.IntVar] = {}
    inflow: dict[tuple[int, State], list[cp_model.IntVar]] = defaultdict(list)
    for d in range(days):
        for k, s in enumerate(sorted(alive[d])):
            out = []
            for lab in (0, 1):
                t = walk.step(s, d, lab)
                if t is None or t not in alive[d + 1]:
                    continue
                arc = model.new_bool_var(f"{prefix}_{d}_{k}_{lab}")
                arcs[d, s, lab] = arc
                out.append(arc)
                inflow[d + 1, t].append(arc)
            source = [] if d == 0 else inflow[d, s]
            model.add(sum(out) == (1 if d == 0 else sum(source)))
        model.add(work[d] == sum(v for (day, _, lab), v in arcs.items() if day == d and lab))
    return arcs


def pattern_hint(staff: Staff, worked: list[bool], first_weekday: int,
                 counts: tuple[int, int] | None = None) -> dict[Arc, bool]:
    """Arc values for a work pattern (only the arcs on its path are true; empty if invalid)."""
    walk = _walker(staff, len(worked), first_weekday, counts)
    state = walk.start if counts is not None else (walk.start, 0, False)
    path: dict[Arc, bool] = {}
    for d, w in enumerate(worked):
        nxt = walk.step(state, d, int(w))
        if nxt is None:
            return {}
        path[d, state, int(w)] = True
        state = nxt
    return path
