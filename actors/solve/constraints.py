"""The CP-SAT encoding of a :class:`RosterProblem`.

Variables: ``x[e, d, s]`` (staff e works shift s on day d) and ``work[e, d]``. Every hard
constraint of the benchmark is exact; runs use sliding windows (max consecutive) and linear
implications (min consecutive shifts / days off; forbidden-pattern clauses or a regular
automaton when asked). Redundant parts tighten the LP: count bounds, window cuts and, above
all, a per-staff network flow over the run/weekend automaton (:mod:`actors.solve.flow`).
Under- and over-cover of a row are exact linear equalities with integer deficits; they are not
forced apart (an optimum never has both), so a non-optimal solution's model objective can
exceed its true penalty, which the checker recomputes. When
``groups`` is on, each hard constraint group is enforced by its own literal so an infeasible
problem can be explained with ``sufficient_assumptions_for_infeasibility``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from actors.solve.schema import RosterProblem, Staff


@dataclass(frozen=True)
class ModelFlags:
    """Switches for the optional parts of the model (the solver's phases, switches and budgets
    are in :class:`actors.solve.plan.Plan`)."""

    redundant: bool = True
    automaton: bool = False
    symmetry: bool = True
    windows: bool = True
    groups: bool = False
    linear_runs: bool = True  # min runs as linear implications (LP sees them), not clauses
    exclusive_cover: bool = False  # a boolean per cover row forbidding under and over together
    flow: bool = True  # per-staff network-flow encoding of the run/weekend automaton
    flow_counts: bool = False  # ... with the days worked in the state (equal shift lengths)


@dataclass
class RosterModel:
    problem: RosterProblem
    model: cp_model.CpModel
    x: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)
    work: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    penalties: dict[str, list[cp_model.LinearExprT]] = field(default_factory=dict)
    cover_vars: list[tuple] = field(default_factory=list)
    weekend_vars: list[tuple[int, list[int], cp_model.IntVar]] = field(default_factory=list)
    group_literals: dict[str, cp_model.IntVar] = field(default_factory=dict)
    flow_arcs: dict[int, dict] = field(default_factory=dict)
    flags: ModelFlags = field(default_factory=ModelFlags)
    cutoff: int | None = None  # the lowest objective bound put on the model (fixing.py)

    def objective(self) -> cp_model.LinearExprT:
        """The weighted penalty sum (the model's objective; LNS and fixing cut it off)."""
        return sum(t for terms in self.penalties.values() for t in terms)

    def enforced(self, name: str) -> list[cp_model.IntVar]:
        """Enforcement literals for a constraint group (none unless groups are on)."""
        if not self.flags.groups:
            return []
        if name not in self.group_literals:
            self.group_literals[name] = self.model.new_bool_var(name)
        return [self.group_literals[name]]


def build_model(problem: RosterProblem, flags: ModelFlags | None = None) -> RosterModel:
    """Build the full model: variables, hard constraints and the objective."""
    rm = RosterModel(problem=problem, model=cp_model.CpModel(), flags=flags or ModelFlags())
    _variables(rm)
    for e, staff in enumerate(problem.staff):
        _staff_constraints(rm, e, staff)
    _objective(rm)
    if rm.flags.symmetry and not rm.flags.groups:
        _break_symmetry(rm)
    return rm


def _variables(rm: RosterModel) -> None:
    p, m = rm.problem, rm.model
    for e in range(len(p.staff)):
        for d in range(p.horizon.days):
            row = []
            for s in range(len(p.shifts)):
                rm.x[e, d, s] = m.new_bool_var(f"x_{e}_{d}_{s}")
                row.append(rm.x[e, d, s])
            rm.work[e, d] = m.new_bool_var(f"w_{e}_{d}")
            m.add(sum(row) == rm.work[e, d])


def _staff_constraints(rm: RosterModel, e: int, staff: Staff) -> None:
    p, m = rm.problem, rm.model
    days, shifts = p.horizon.days, p.shifts
    tag = f"staff {staff.id}"
    work = [rm.work[e, d] for d in range(days)]
    for d in staff.days_off:
        m.add(work[d] == 0).only_enforce_if(rm.enforced(f"{tag}: days off"))
    index = {s.id: i for i, s in enumerate(shifts)}
    for s, shift in enumerate(shifts):
        for t in (index[f] for f in shift.cannot_follow):
            for d in range(days - 1):
                m.add_bool_or([rm.x[e, d, s].Not(), rm.x[e, d + 1, t].Not()]).only_enforce_if(
                    rm.enforced(f"{tag}: shift rotation"))
    for shift_id, limit in staff.max_shifts.items():
        s = index[shift_id]
        m.add(sum(rm.x[e, d, s] for d in range(days)) <= limit).only_enforce_if(
            rm.enforced(f"{tag}: max shifts {shift_id}"))
    minutes = sum(sh.length_minutes * rm.x[e, d, s]
                  for d in range(days) for s, sh in enumerate(shifts))
    if staff.max_total_minutes is not None:
        m.add(minutes <= staff.max_total_minutes).only_enforce_if(
            rm.enforced(f"{tag}: max total minutes"))
    if staff.min_total_minutes > 0:
        m.add(minutes >= staff.min_total_minutes).only_enforce_if(
            rm.enforced(f"{tag}: min total minutes"))
    if rm.flags.redundant:
        _count_bounds(rm, staff, work)
    if rm.flags.windows and not rm.flags.groups:
        _window_cuts(rm, staff, work)
    _runs(rm, staff, work, tag)
    _weekends(rm, staff, work, tag)
    if rm.flags.flow and not rm.flags.groups:
        from actors.solve.flow import add_pattern_flow

        e = next(i for i, s in enumerate(rm.problem.staff) if s.id == staff.id)
        counts = count_bounds(rm.problem, staff, len(work)) if rm.flags.flow_counts else None
        rm.flow_arcs[e] = add_pattern_flow(rm.model, staff, work,
                                           rm.problem.horizon.first_weekday(), f"f{e}", counts)


def count_bounds(problem: RosterProblem, staff: Staff, days: int) -> tuple[int, int]:
    """Least and most shifts a member can work, from their minutes and max run."""
    lengths = [s.length_minutes for s in problem.shifts]
    lo = -(-staff.min_total_minutes // max(lengths))
    hi = days
    if staff.max_total_minutes is not None:
        hi = min(hi, staff.max_total_minutes // min(lengths))
    cmax = staff.max_consecutive_shifts
    if cmax is not None:
        hi = min(hi, (days // (cmax + 1)) * cmax + min(cmax, days % (cmax + 1)))
    return lo, max(lo, hi)


def _count_bounds(rm: RosterModel, staff: Staff, work: list[cp_model.IntVar]) -> None:
    """Redundant: bounds on the number of shifts worked implied by minutes and run limits."""
    lo, hi = count_bounds(rm.problem, staff, len(work))
    if not rm.flags.groups:
        rm.model.add_linear_constraint(sum(work), lo, max(lo, hi))


def _window_cuts(rm: RosterModel, staff: Staff, work: list[cp_model.IntVar]) -> None:
    """Redundant: the most days worked in each window (see :mod:`actors.solve.windows`)."""
    from actors.solve.windows import window_cuts

    for a, b, bound in window_cuts(staff, len(work), rm.problem.horizon.first_weekday()):
        rm.model.add(sum(work[a:b + 1]) <= bound)


def _runs(rm: RosterModel, staff: Staff, work: list[cp_model.IntVar], tag: str) -> None:
    m, n = rm.model, len(work)
    cmax = staff.max_consecutive_shifts
    if rm.flags.automaton and not rm.flags.groups:
        _run_automaton(rm, staff, work)
    elif cmax is not None:
        for d in range(n - cmax):
            m.add(sum(work[d:d + cmax + 1]) <= cmax).only_enforce_if(
                rm.enforced(f"{tag}: max consecutive shifts"))
    if rm.flags.automaton and not rm.flags.groups:
        return
    _min_run(rm, work, staff.min_consecutive_shifts, True, f"{tag}: min consecutive shifts")
    _min_run(rm, work, staff.min_consecutive_days_off, False, f"{tag}: min consecutive days off")


def _min_run(rm: RosterModel, work: list[cp_model.IntVar], minimum: int, on: bool,
             name: str) -> None:
    """Forbid every interior run (of work if ``on`` else of rest) shorter than ``minimum``."""
    n = len(work)

    def inside(d: int) -> cp_model.IntVar:
        return work[d] if on else work[d].Not()

    if rm.flags.linear_runs:
        _min_run_linear(rm, work, minimum, on, name)
        return
    for length in range(1, minimum):
        for start in range(1, n - length):
            # No run of exactly `length` days bordered on both sides inside the horizon.
            clause = [inside(start - 1), inside(start + length)]
            clause += [inside(d).Not() for d in range(start, start + length)]
            rm.model.add_bool_or(clause).only_enforce_if(rm.enforced(name))


def _min_run_linear(rm: RosterModel, work: list[cp_model.IntVar], minimum: int, on: bool,
                    name: str) -> None:
    """A run starting on day d >= 1 covers days d..d+minimum-1 (those inside the horizon).

    Work: ``work[d] - work[d-1] <= work[d+j]``; rest: ``work[d-1] - work[d] + work[d+j] <= 1``.
    """
    n = len(work)
    for d in range(1, n):
        for j in range(1, minimum):
            if d + j >= n:
                break
            if on:
                rm.model.add(work[d] - work[d - 1] - work[d + j] <= 0).only_enforce_if(
                    rm.enforced(name))
            else:
                rm.model.add(work[d - 1] - work[d] + work[d + j] <= 1).only_enforce_if(
                    rm.enforced(name))


def _run_automaton(rm: RosterModel, staff: Staff, work: list[cp_model.IntVar]) -> None:
    """Max/min consecutive shifts and min days off as one regular constraint."""
    from actors.solve.automaton import run_automaton

    start, finals, transitions = run_automaton(
        len(work), staff.max_consecutive_shifts, staff.min_consecutive_shifts,
        staff.min_consecutive_days_off)
    rm.model.add_automaton(work, start, finals, transitions)


def weekend_days(problem: RosterProblem) -> list[list[int]]:
    """The horizon's days grouped by weekend (Saturday and Sunday of one week), in order."""
    first = problem.horizon.first_weekday()
    weekends: dict[int, list[int]] = {}
    for d in range(problem.horizon.days):
        if (first + d) % 7 in (5, 6):
            weekends.setdefault((first + d) // 7, []).append(d)
    return [days for _, days in sorted(weekends.items())]


def _weekends(rm: RosterModel, staff: Staff, work: list[cp_model.IntVar], tag: str) -> None:
    if staff.max_weekends is None:
        return
    weekends = weekend_days(rm.problem)
    if len(weekends) <= staff.max_weekends:
        return
    flags = []
    e = next(i for i, s in enumerate(rm.problem.staff) if s.id == staff.id)
    for days in weekends:
        flag = rm.model.new_bool_var(f"we_{staff.id}_{days[0]}")
        for d in days:
            rm.model.add(flag >= work[d])
        rm.model.add(flag <= sum(work[d] for d in days))
        flags.append(flag)
        rm.weekend_vars.append((e, days, flag))
    rm.model.add(sum(flags) <= staff.max_weekends).only_enforce_if(
        rm.enforced(f"{tag}: max weekends"))


def _objective(rm: RosterModel) -> None:
    p, m = rm.problem, rm.model
    sid = {s.id: i for i, s in enumerate(p.staff)}
    hid = {s.id: i for i, s in enumerate(p.shifts)}
    rm.penalties = {
        "shift_on_requests": [r.weight * (1 - rm.x[sid[r.staff_id], r.day, hid[r.shift_id]])
                              for r in p.shift_on_requests],
        "shift_off_requests": [r.weight * rm.x[sid[r.staff_id], r.day, hid[r.shift_id]]
                               for r in p.shift_off_requests],
        "under_cover": [],
        "over_cover": [],
    }
    for c in p.cover:
        staff = [e for e, st in enumerate(p.staff) if c.skill is None or c.skill in st.skills]
        count = sum(rm.x[e, c.day, hid[c.shift_id]] for e in staff)
        under = m.new_int_var(0, c.requirement, f"under_{c.day}_{c.shift_id}")
        over = m.new_int_var(0, max(0, len(staff) - c.requirement), f"over_{c.day}_{c.shift_id}")
        m.add(count + under - over == c.requirement)
        short = None
        if rm.flags.exclusive_cover:
            short = m.new_bool_var(f"short_{c.day}_{c.shift_id}")  # never both under and over
            m.add(under <= c.requirement * short)
            m.add(over <= max(0, len(staff) - c.requirement) * (1 - short))
        rm.cover_vars.append((c, staff, under, over, short))
        rm.penalties["under_cover"].append(c.weight_under * under)
        rm.penalties["over_cover"].append(c.weight_over * over)
    if not rm.flags.groups:
        m.minimize(rm.objective())


def _break_symmetry(rm: RosterModel) -> None:
    """Interchangeable staff (same contract, skills, no days off or requests): order them."""
    p = rm.problem
    personal = {r.staff_id for r in p.shift_on_requests + p.shift_off_requests}
    classes: dict[str, list[int]] = {}
    for e, st in enumerate(p.staff):
        if st.id in personal or st.days_off:
            continue
        key = st.model_dump_json(exclude={"id"})
        classes.setdefault(key, []).append(e)
    for members in classes.values():
        for a, b in zip(members, members[1:], strict=False):
            # Total shifts worked is symmetric under swapping a and b: keep a >= b.
            rm.model.add(sum(rm.work[a, d] for d in range(p.horizon.days))
                         >= sum(rm.work[b, d] for d in range(p.horizon.days)))
