"""Independent roster checker: every hard constraint, and the objective recomputed.

Written from the benchmark's definition, sharing no code with the CP-SAT model: it walks the
roster day by day. A roster holds, per staff id, one entry per day: a shift id or ``None``.
"""

from __future__ import annotations

from actors.solve.schema import (
    Assignments,
    CheckReport,
    PenaltyBreakdown,
    RosterProblem,
    Staff,
    Violation,
)


def check_roster(problem: RosterProblem, roster: Assignments) -> CheckReport:
    """Validate ``roster`` against every hard constraint and recompute its objective."""
    violations = _shape(problem, roster)
    if violations:
        return CheckReport(feasible=False, violations=violations, objective=0,
                           penalties=PenaltyBreakdown())
    for staff in problem.staff:
        violations.extend(_staff_violations(problem, staff, roster[staff.id]))
    penalties = objective_breakdown(problem, roster)
    return CheckReport(feasible=not violations, violations=violations,
                       objective=penalties.total, penalties=penalties)


def objective_breakdown(problem: RosterProblem, roster: Assignments) -> PenaltyBreakdown:
    """The weighted penalties of a well-shaped roster, by kind."""
    on = sum(r.weight for r in problem.shift_on_requests
             if roster[r.staff_id][r.day] != r.shift_id)
    off = sum(r.weight for r in problem.shift_off_requests
              if roster[r.staff_id][r.day] == r.shift_id)
    skills = {s.id: set(s.skills) for s in problem.staff}
    under = over = 0
    for row in problem.cover:
        working = 0
        for staff_id, days in roster.items():
            qualified = row.skill is None or row.skill in skills[staff_id]
            if days[row.day] == row.shift_id and qualified:
                working += 1
        under += row.weight_under * max(0, row.requirement - working)
        over += row.weight_over * max(0, working - row.requirement)
    return PenaltyBreakdown(shift_on_requests=on, shift_off_requests=off,
                            under_cover=under, over_cover=over)


def _shape(problem: RosterProblem, roster: Assignments) -> list[Violation]:
    out: list[Violation] = []
    known = {s.id for s in problem.shifts}
    staff_ids = {s.id for s in problem.staff}
    for staff_id in roster:
        if staff_id not in staff_ids:
            out.append(Violation(constraint="roster shape", staff_id=staff_id,
                                 message=f"unknown staff id {staff_id}"))
    for staff in problem.staff:
        days = roster.get(staff.id)
        if days is None or len(days) != problem.horizon.days:
            out.append(Violation(constraint="roster shape", staff_id=staff.id,
                                 message=f"needs exactly {problem.horizon.days} days"))
            continue
        for day, shift in enumerate(days):
            if shift is not None and shift not in known:
                out.append(Violation(constraint="roster shape", staff_id=staff.id, day=day,
                                     message=f"unknown shift id {shift}"))
    return out


def _staff_violations(
    problem: RosterProblem, staff: Staff, days: list[str | None]
) -> list[Violation]:
    found: list[Violation] = []

    def add(constraint: str, message: str, day: int | None = None) -> None:
        found.append(Violation(constraint=constraint, staff_id=staff.id, day=day,
                               message=f"staff {staff.id}: {message}"))

    length = {s.id: s.length_minutes for s in problem.shifts}
    forbidden = {s.id: set(s.cannot_follow) for s in problem.shifts}
    for day in staff.days_off:
        if days[day] is not None:
            add("days off", f"works {days[day]} on day off {day}", day)
    for day in range(len(days) - 1):
        today, tomorrow = days[day], days[day + 1]
        if today is not None and tomorrow is not None and tomorrow in forbidden[today]:
            add("shift rotation", f"{tomorrow} on day {day + 1} follows {today}", day + 1)
    for shift_id, limit in staff.max_shifts.items():
        count = sum(1 for s in days if s == shift_id)
        if count > limit:
            add("max shifts per type", f"{count} shifts {shift_id}, at most {limit}")
    minutes = sum(length[s] for s in days if s is not None)
    if staff.max_total_minutes is not None and minutes > staff.max_total_minutes:
        add("max total minutes", f"{minutes} minutes, at most {staff.max_total_minutes}")
    if minutes < staff.min_total_minutes:
        add("min total minutes", f"{minutes} minutes, at least {staff.min_total_minutes}")
    _check_runs(staff, days, add)
    worked = _weekends_worked(problem, days)
    if staff.max_weekends is not None and len(worked) > staff.max_weekends:
        add("max weekends", f"works {len(worked)} weekends, at most {staff.max_weekends}")
    return found


def _runs(days: list[str | None]) -> list[tuple[bool, int, int]]:
    """Maximal runs as (working, first day, length)."""
    runs: list[tuple[bool, int, int]] = []
    start = 0
    for day in range(1, len(days) + 1):
        if day == len(days) or (days[day] is None) != (days[start] is None):
            runs.append((days[start] is not None, start, day - start))
            start = day
    return runs


def _check_runs(staff: Staff, days: list[str | None], add) -> None:  # noqa: ANN001
    last = len(days)
    for working, first, size in _runs(days):
        interior = first > 0 and first + size < last
        if working:
            if staff.max_consecutive_shifts is not None and size > staff.max_consecutive_shifts:
                add("max consecutive shifts",
                    f"{size} shifts in a row from day {first}, at most "
                    f"{staff.max_consecutive_shifts}", first)
            if interior and size < staff.min_consecutive_shifts:
                add("min consecutive shifts",
                    f"{size} shifts in a row from day {first}, at least "
                    f"{staff.min_consecutive_shifts}", first)
        elif interior and size < staff.min_consecutive_days_off:
            add("min consecutive days off",
                f"{size} days off in a row from day {first}, at least "
                f"{staff.min_consecutive_days_off}", first)


def _weekends_worked(problem: RosterProblem, days: list[str | None]) -> set[int]:
    offset = problem.horizon.first_weekday()
    worked: set[int] = set()
    for day, shift in enumerate(days):
        weekday = (offset + day) % 7
        if shift is not None and weekday in (5, 6):
            worked.add((offset + day) // 7)
    return worked
