"""A compact CP-SAT model of one LNS neighbourhood, built from the free cells alone.

The LNS's first way to re-solve a neighbourhood (:func:`actors.solve.lns._fixed_copy`) clones
the whole model and fixes every cell outside it. On a large problem that costs more than the
sub-solve: on Instance 13 (120 staff x 28 days x 18 shift types, 64,000 variables) the clone,
the fixing and the hints took 0.5-1.2 s a step and CP-SAT's presolve of the fixed copy most of
the 1 s limit, so a sub-solve of four members rarely closed. Here the model holds only the
free cells' variables; every rule of a member is written over their free days with the fixed
days as constants (the same encoding as :mod:`actors.solve.constraints`' light model: one
shift a day, shift rotation, per-type maxima, minutes, count bounds, max / min runs as linear
windows, weekends), and a cover row counts its fixed members as a constant. Its objective is
the change of the roster's objective over the touched terms; ``offset`` adds the rest, so
``offset + objective`` is the model's objective of the whole roster (>= the checker's, which
every roster is checked by before it is kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from actors.solve.constraints import count_bounds, weekend_days
from actors.solve.schema import Assignments, RosterProblem

Cells = set[tuple[int, int]]
Term = cp_model.IntVar | int


class Index:
    """What every neighbourhood's model reads from the problem, computed once."""

    def __init__(self, problem: RosterProblem) -> None:
        p = self.problem = problem
        self.days, self.n_shifts = p.horizon.days, len(p.shifts)
        self.sid = {s.id: i for i, s in enumerate(p.shifts)}
        self.length = [s.length_minutes for s in p.shifts]
        # follow[s]: the shifts that cannot be worked the day after shift s
        self.follow = [[self.sid[f] for f in s.cannot_follow] for s in p.shifts]
        self.allowed = [[s for s, sh in enumerate(p.shifts) if st.max_shifts.get(sh.id, 1) > 0]
                        for st in p.staff]
        self.off = [set(st.days_off) for st in p.staff]
        self.bounds = [count_bounds(p, st, self.days) for st in p.staff]
        self.weekends = weekend_days(p)
        self.requests: dict[tuple[int, int], list[tuple[int, int]]] = {}  # (e, d): (s, w)
        staff_index = {st.id: e for e, st in enumerate(p.staff)}
        self.on_weight = 0
        for q in p.shift_on_requests:  # weight * (1 - x): -weight on the cell, +weight fixed
            self.requests.setdefault((staff_index[q.staff_id], q.day), []).append(
                (self.sid[q.shift_id], -q.weight))
        for q in p.shift_off_requests:
            self.requests.setdefault((staff_index[q.staff_id], q.day), []).append(
                (self.sid[q.shift_id], q.weight))
        self.rows: dict[tuple[int, int], list[int]] = {}  # (day, shift): cover rows
        self.counts: list[list[int]] = []  # per row: the members it counts
        for r, c in enumerate(p.cover):
            self.rows.setdefault((c.day, self.sid[c.shift_id]), []).append(r)
            self.counts.append([e for e, st in enumerate(p.staff)
                                if c.skill is None or c.skill in st.skills])
        self.counted = [set(members) for members in self.counts]

    def table(self, roster: Assignments) -> list[list[int]]:
        """The roster as shift indices per member and day (-1: off)."""
        return [[-1 if v is None else self.sid[v] for v in roster[st.id]]
                for st in self.problem.staff]


@dataclass
class SubModel:
    model: cp_model.CpModel
    x: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)
    offset: int = 0  # the objective of every term outside the model, for the current roster
    current: int = 0  # the model's objective for the current roster (the free cells as now)
    hints: list[tuple[int, int]] = field(default_factory=list)  # (variable index, value)


def _le(m: cp_model.CpModel, terms: list[tuple[int, Term]], rhs: int) -> None:
    """``sum(coef * term) <= rhs`` over variables and constants; nothing if all are constant
    (they come from a valid roster, so they hold)."""
    const, lin = 0, []
    for coef, t in terms:
        if isinstance(t, int):
            const += coef * t
        else:
            lin.append(coef * t)
    if lin:
        m.add(sum(lin) <= rhs - const)


def build_sub(ix: Index, table: list[list[int]], free: Cells, objective: int,
              cutoff: int | None) -> SubModel:
    """The model of the cells ``free`` of ``table`` (a valid roster of objective
    ``objective``), the rest fixed; ``cutoff``: the whole roster's objective must be at most
    this."""
    p, m = ix.problem, cp_model.CpModel()
    sub = SubModel(model=m)
    by_member: dict[int, list[int]] = {}
    for e, d in free:
        by_member.setdefault(e, []).append(d)
    obj: list[cp_model.LinearExprT] = []
    current = 0
    touched: set[int] = set()
    for e, free_days in by_member.items():
        free_days.sort()
        _member(ix, sub, e, free_days, table[e])
        for d in free_days:
            for s, w in ix.requests.get((e, d), ()):
                current += w * (table[e][d] == s)
                if (e, d, s) in sub.x:
                    obj.append(w * sub.x[e, d, s])
            for s in ix.allowed[e]:
                if (e, d, s) in sub.x:
                    touched.update(r for r in ix.rows.get((d, s), ())
                                   if e in ix.counted[r])
    for r in sorted(touched):
        c = p.cover[r]
        s = ix.sid[c.shift_id]
        fixed, lin = 0, []
        for e in ix.counts[r]:
            var = sub.x.get((e, c.day, s))
            if var is not None:
                lin.append(var)
            elif (e, c.day) not in free and table[e][c.day] == s:
                fixed += 1
        now = fixed + sum(1 for e in ix.counts[r] if (e, c.day) in free and table[e][c.day] == s)
        current += c.weight_under * max(0, c.requirement - now) + c.weight_over * max(
            0, now - c.requirement)
        need = c.requirement - fixed
        under = m.new_int_var(0, max(0, need), f"u{r}")
        over = m.new_int_var(0, max(0, len(lin) - need), f"o{r}")
        m.add(sum(lin) + under - over == need)
        m.add_hint(under, max(0, c.requirement - now))
        m.add_hint(over, max(0, now - c.requirement))
        obj += [c.weight_under * under, c.weight_over * over]
    sub.offset, sub.current = objective - current, current
    m.proto.solution_hint.vars.extend(i for i, _ in sub.hints)
    m.proto.solution_hint.values.extend(v for _, v in sub.hints)
    expr = sum(obj) if obj else 0
    if not isinstance(expr, int):
        m.minimize(expr)
        if cutoff is not None:
            m.add(expr <= cutoff - sub.offset)
    return sub


def _member(ix: Index, sub: SubModel, e: int, free_days: list[int],
            now: list[int]) -> list[Term]:
    """Member ``e``'s variables on ``free_days`` and their rules; the work terms by day."""
    m, days = sub.model, ix.days
    st = ix.problem.staff[e]
    work: list[Term] = [int(v >= 0) for v in now]
    cell: dict[tuple[int, int], Term] = {}
    free = set(free_days)
    for d in free_days:
        if d in ix.off[e]:
            work[d] = 0
            continue
        row = []
        for s in ix.allowed[e]:
            v = m.new_bool_var(f"x{e}_{d}_{s}")
            sub.hints.append((v.index, int(now[d] == s)))
            sub.x[e, d, s] = cell[d, s] = v
            row.append(v)
        w = m.new_bool_var(f"w{e}_{d}")
        m.add(sum(row) == w)
        sub.hints.append((w.index, int(now[d] >= 0)))
        work[d] = w

    def x(d: int, s: int) -> Term:
        if d in free:
            return cell.get((d, s), 0)
        return int(now[d] == s)

    touched = sorted({t for d in free_days for t in (d - 1, d) if 0 <= t < days - 1})
    for d in touched:  # rotation: shift s on d bans the shifts of follow[s] on d + 1
        later = now[d + 1] if d + 1 not in free else None
        for s in range(ix.n_shifts):
            if not ix.follow[s]:
                continue
            a = x(d, s)
            if isinstance(a, int) and a == 0:  # not worked: nothing to ban
                continue
            if later is not None:  # the next day is fixed
                if later in ix.follow[s]:
                    m.add(a == 0)
                continue
            after = [cell[d + 1, t] for t in ix.follow[s] if (d + 1, t) in cell]
            if not after:
                continue
            if isinstance(a, int):  # worked
                m.add(sum(after) == 0)
            else:
                m.add_at_most_one([a, *after])
    fixed_min, fixed_type = 0, [0] * ix.n_shifts
    for d, v in enumerate(now):
        if v >= 0 and d not in free:
            fixed_min += ix.length[v]
            fixed_type[v] += 1
    cells = [(d, s) for d in free_days for s in ix.allowed[e] if (d, s) in cell]
    for shift_id, limit in st.max_shifts.items():
        s = ix.sid[shift_id]
        vars_s = [cell[d, s] for d in free_days if (d, s) in cell]
        if vars_s and limit - fixed_type[s] < len(vars_s):
            m.add(sum(vars_s) <= limit - fixed_type[s])
    if cells:
        minutes = cp_model.LinearExpr.weighted_sum([cell[c] for c in cells],
                                                   [ix.length[c[1]] for c in cells])
        if st.max_total_minutes is not None:
            m.add(minutes <= st.max_total_minutes - fixed_min)
        if st.min_total_minutes > 0:
            m.add(minutes >= st.min_total_minutes - fixed_min)
    lo, hi = ix.bounds[e]
    _le(m, [(1, w) for w in work], hi)
    _le(m, [(-1, w) for w in work], -lo)
    lo_d, hi_d = free_days[0], free_days[-1]
    cmax = st.max_consecutive_shifts
    if cmax is not None:
        for a in range(max(0, lo_d - cmax), min(hi_d, days - cmax - 1) + 1):
            if any(d in free for d in range(a, a + cmax + 1)):
                _le(m, [(1, w) for w in work[a:a + cmax + 1]], cmax)
    for minimum, on in ((st.min_consecutive_shifts, True), (st.min_consecutive_days_off, False)):
        for d in range(max(1, lo_d - minimum + 1), min(days, hi_d + 2)):
            for j in range(1, minimum):
                if d + j >= days:
                    break
                if not {d - 1, d, d + j} & free:
                    continue
                if on:  # a run of work starting on d covers d + j
                    _le(m, [(1, work[d]), (-1, work[d - 1]), (-1, work[d + j])], 0)
                else:  # a run of rest starting on d covers d + j
                    _le(m, [(1, work[d - 1]), (-1, work[d]), (1, work[d + j])], 1)
    if st.max_weekends is not None and len(ix.weekends) > st.max_weekends:
        flags: list[Term] = []
        for wdays in ix.weekends:
            if any(not isinstance(work[d], int) for d in wdays):
                flag = m.new_bool_var(f"we{e}_{wdays[0]}")
                for d in wdays:
                    m.add(flag >= work[d])
                m.add(flag <= sum(work[d] for d in wdays))
                m.add_hint(flag, any(now[d] >= 0 for d in wdays))
                flags.append(flag)
            else:
                flags.append(int(any(work[d] for d in wdays)))
        _le(m, [(1, f) for f in flags], st.max_weekends)
    return work


def roster_of_sub(ix: Index, sub: SubModel, table: list[list[int]], free: Cells,
                  value: cp_model.CpSolver) -> Assignments:
    """The roster with the free cells as ``value`` (a solver) has them."""
    p = ix.problem
    out: Assignments = {}
    for e, st in enumerate(p.staff):
        row = list(table[e])
        for d in range(ix.days):
            if (e, d) in free:
                row[d] = next((s for s in ix.allowed[e] if (e, d, s) in sub.x
                               and value.boolean_value(sub.x[e, d, s])), -1)
        out[st.id] = [None if s < 0 else p.shifts[s].id for s in row]
    return out
