"""Redundant window cuts: the most days a staff member can work in each window of days.

For one staff member, a dynamic programme over the run automaton (max/min consecutive shifts,
min consecutive days off), their fixed days off and their weekend limit gives, for every window
``[a, b]``, the largest number of working days any roster valid for that member can have in it.
Only windows whose bound is not implied by splitting them into two smaller windows are kept.
These linear cuts tighten the LP relaxation (the plain sliding window only knows max runs).
"""

from __future__ import annotations

from actors.solve.automaton import run_automaton
from actors.solve.schema import Staff

State = tuple[int, int, bool]  # (automaton state, weekends worked, this weekend counted)


class _Walk:
    def __init__(self, staff: Staff, days: int, first_weekday: int) -> None:
        start, _, transitions = run_automaton(
            days, staff.max_consecutive_shifts, staff.min_consecutive_shifts,
            staff.min_consecutive_days_off)
        self.delta = {(src, label): dst for src, label, dst in transitions}
        self.start = start
        self.days = days
        self.off = set(staff.days_off)
        self.max_weekends = staff.max_weekends
        self.weekend = [(first_weekday + d) % 7 in (5, 6) for d in range(days)]

    def step(self, state: State, day: int, label: int) -> State | None:
        if label == 1 and day in self.off:
            return None
        q = self.delta.get((state[0], label))
        if q is None:
            return None
        worked, counted = state[1], state[2]
        if not self.weekend[day]:
            return (q, worked, False)
        if label == 1 and not counted:
            worked += 1
            if self.max_weekends is not None and worked > self.max_weekends:
                return None
            counted = True
        return (q, worked if self.max_weekends is not None else 0, counted)

    def reachable(self) -> list[set[State]]:
        """States that can be alive before each day, forward and backward consistent."""
        fwd: list[set[State]] = [{(self.start, 0, False)}]
        for d in range(self.days):
            nxt = {t for s in fwd[d] for lab in (0, 1) if (t := self.step(s, d, lab))}
            fwd.append(nxt)
        alive = [set() for _ in range(self.days + 1)]
        alive[self.days] = fwd[self.days]
        for d in range(self.days - 1, -1, -1):
            alive[d] = {s for s in fwd[d]
                        if any(self.step(s, d, lab) in alive[d + 1] for lab in (0, 1))}
        return alive


def max_work_in_windows(staff: Staff, days: int, first_weekday: int = 0) -> list[list[int]]:
    """``f[a][b]``: most working days in days ``a..b`` (inclusive); -1 if no valid roster."""
    walk = _Walk(staff, days, first_weekday)
    alive = walk.reachable()
    table = [[-1] * days for _ in range(days)]
    for a in range(days):
        best = dict.fromkeys(alive[a], 0)
        for b in range(a, days):
            nxt: dict[State, int] = {}
            for s, count in best.items():
                for lab in (0, 1):
                    t = walk.step(s, b, lab)
                    if t is not None and t in alive[b + 1] and nxt.get(t, -1) < count + lab:
                        nxt[t] = count + lab
            best = nxt
            table[a][b] = max(best.values(), default=-1)
    return table


def window_cuts(staff: Staff, days: int, first_weekday: int = 0,
                max_length: int | None = None) -> list[tuple[int, int, int]]:
    """Non-dominated cuts ``(a, b, bound)``: ``sum(work[a..b]) <= bound``."""
    f = max_work_in_windows(staff, days, first_weekday)
    if f[0][0] < 0:
        return []  # no valid roster for this member alone; the model will say infeasible
    cuts = []
    for a in range(days):
        for b in range(a + 1, days if max_length is None else min(days, a + max_length)):
            split = min(f[a][m] + f[m + 1][b] for m in range(a, b))
            if f[a][b] < split:
                cuts.append((a, b, f[a][b]))
    return cuts
