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


def add_pattern_flow(model: cp_model.CpModel, staff: Staff, work: list[cp_model.IntVar],
                     first_weekday: int, prefix: str) -> dict[Arc, cp_model.IntVar]:
    """Add the flow for one member over ``work``; return the arc literals (for hints)."""
    days = len(work)
    walk = _Walk(staff, days, first_weekday)
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


def pattern_hint(staff: Staff, worked: list[bool], first_weekday: int) -> dict[Arc, bool]:
    """Arc values for a work pattern (only the arcs on its path are true; empty if invalid)."""
    walk = _Walk(staff, len(worked), first_weekday)
    state = (walk.start, 0, False)
    path: dict[Arc, bool] = {}
    for d, w in enumerate(worked):
        nxt = walk.step(state, d, int(w))
        if nxt is None:
            return {}
        path[d, state, int(w)] = True
        state = nxt
    return path
