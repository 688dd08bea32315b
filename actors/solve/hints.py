"""Solution hints: a previous roster hints every variable of a :class:`RosterModel`."""

from __future__ import annotations

from ortools.sat.python import cp_model

from actors.solve.constraints import RosterModel, count_bounds
from actors.solve.flow import pattern_hint
from actors.solve.schema import Assignments


def add_hints(rm: RosterModel, hint: Assignments | None,
              model: cp_model.CpModel | None = None) -> None:
    """Hint every variable from a previous roster, so a still-valid roster is a full hint."""
    if not hint:
        return
    m = model if model is not None else rm.model
    p = rm.problem
    worked: dict[tuple[int, int], str | None] = {}
    for e, staff in enumerate(p.staff):
        days = list(hint.get(staff.id) or [])[: p.horizon.days]
        days += [None] * (p.horizon.days - len(days))
        for d, shift_id in enumerate(days):
            worked[e, d] = shift_id
            m.add_hint(rm.work[e, d], shift_id is not None)
            for s, shift in enumerate(p.shifts):
                m.add_hint(rm.x[e, d, s], shift_id == shift.id)
    for e, days, flag in rm.weekend_vars:
        m.add_hint(flag, any(worked[e, d] is not None for d in days))
    for row, staff, under, over, short in rm.cover_vars:
        count = sum(1 for e in staff if worked[e, row.day] == row.shift_id)
        m.add_hint(under, max(0, row.requirement - count))
        m.add_hint(over, max(0, count - row.requirement))
        if short is not None:
            m.add_hint(short, count < row.requirement)
    _hint_flow(rm, m, worked)


def _hint_flow(rm: RosterModel, m: cp_model.CpModel,
               worked: dict[tuple[int, int], str | None]) -> None:
    p = rm.problem
    for e, arcs in rm.flow_arcs.items():
        staff = p.staff[e]
        counts = count_bounds(p, staff, p.horizon.days) if rm.flags.flow_counts else None
        path = pattern_hint(staff, [worked[e, d] is not None for d in range(p.horizon.days)],
                            p.horizon.first_weekday(), counts)
        if path:
            for key, var in arcs.items():
                m.add_hint(var, key in path)
