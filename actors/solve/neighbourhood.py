"""The LNS's neighbourhoods: which cells a step frees (:mod:`actors.solve.lns` solves them).

Kinds: ``staff`` (a few members, whole horizon, half of them who could fill a short row),
``types`` (not in the default kinds), ``days`` (every member over a window around a day with
a cover penalty), ``pair`` / ``halves`` / ``quarters`` (two windows a whole number of weeks
apart, every member or a part of the staff), ``weekends`` (:mod:`actors.solve.weekends`).
"""

from __future__ import annotations

import random

from actors.solve.constraints import RosterModel, weekend_days
from actors.solve.schema import Assignments
from actors.solve.weekends import weekend_cells

Cells = set[tuple[int, int]]
TARGETED = True  # staff neighbourhoods favour members who could fill a short row (else: idle)


def _cover_penalty_by_day(rm: RosterModel, roster: Assignments) -> list[int]:
    """Each day's cover penalty (centring on broken requests too was worse on Instance 5)."""
    p = rm.problem
    skills = {st.id: set(st.skills) for st in p.staff}
    out = [0] * p.horizon.days
    for row in p.cover:
        n = sum(1 for sid, days in roster.items() if days[row.day] == row.shift_id
                and (row.skill is None or row.skill in skills[sid]))
        out[row.day] += (row.weight_under * max(0, row.requirement - n)
                         + row.weight_over * max(0, n - row.requirement))
    return out


def could_fill(rm: RosterModel, roster: Assignments, day: int) -> list[int]:
    """Staff who could take an under-covered shift on ``day``: not on it already, allowed that
    shift type (per-type maximum above 0), holding the row's skill; else those off that day."""
    p = rm.problem
    short = [row for row in p.cover if row.day == day and row.requirement > sum(
        1 for st in p.staff if roster[st.id][day] == row.shift_id
        and (row.skill is None or row.skill in st.skills))]
    out = [e for e, st in enumerate(p.staff) if any(
        roster[st.id][day] != row.shift_id and st.max_shifts.get(row.shift_id, 1) > 0
        and (row.skill is None or row.skill in st.skills) for row in short)]
    return out or [e for e, st in enumerate(p.staff) if roster[st.id][day] is None]


def cells_to_free(rm: RosterModel, rng: random.Random, size: float,
                   roster: Assignments, kind: str) -> tuple[Cells, Cells]:
    """Cells (staff, day) to free, and cells whose shift type alone is free (worked or not
    stays): a few staff for all days (half of them off on a day with a cover penalty), all
    staff over a few days around such a day, or ("types", not in the default kinds: it did
    not help on Instance 8) a few staff freed and every other member's shift types re-chosen
    on their current work pattern."""
    n_staff, days = len(rm.problem.staff), rm.problem.horizon.days
    weights = _cover_penalty_by_day(rm, roster)
    if kind == "weekends":  # (actors/solve/weekends.py)
        return weekend_cells(rm.problem, weekend_days(rm.problem), rng, size, roster,
                             weights), set()
    centre = (rng.choices(range(days), weights=weights)[0] if sum(weights)
              else rng.randrange(days))
    if kind in ("staff", "types"):
        k = min(n_staff, max(2, round(size * n_staff)))
        idle = could_fill(rm, roster, centre) if TARGETED else [
            e for e, st in enumerate(rm.problem.staff) if roster[st.id][centre] is None]
        staff = set(rng.sample(idle, min(len(idle), k // 2)))  # who could fill that day
        staff.update(rng.sample([e for e in range(n_staff) if e not in staff], k - len(staff)))
        free = {(e, d) for e in staff for d in range(days)}
        typed = ({(e, d) for e in range(n_staff) if e not in staff for d in range(days)}
                 if kind == "types" else set())
        return free, typed
    width = max(2, round(size * days / 2))
    start = min(max(0, centre - rng.randrange(width)), max(0, days - width))
    chosen = set(range(start, start + width))
    if kind in ("pair", "halves", "quarters"):  # and as many days a whole number of weeks away
        width = {"pair": max(1, width // 2), "halves": width, "quarters": 2 * width}[kind]
        chosen = set(range(start, min(days, start + width)))
        weeks = [k for k in range(-(days // 7), days // 7 + 1)
                 if k and start + 7 * k >= 0 and start + 7 * k + width <= days]
        if weeks:
            other = start + 7 * rng.choice(weeks)
            chosen.update(range(other, other + width))
    members = range(n_staff)
    if kind in ("halves", "quarters"):  # part of the staff, who could fill the centre first
        part = n_staff // 2 if kind == "halves" else n_staff // 4
        fill = could_fill(rm, roster, centre)
        half = set(rng.sample(fill, min(len(fill), part // 2)))
        half.update(rng.sample([e for e in range(n_staff) if e not in half],
                               max(0, part - len(half))))
        members = sorted(half)
    return {(e, d) for e in members for d in chosen}, set()
