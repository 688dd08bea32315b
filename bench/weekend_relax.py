"""What the weekends alone allow, and, given a roster's weekdays, which of their ties binds.

A CP-SAT model of the weekend cells only: each member works at most one allowed shift type a
weekend day (none on a day off), on at most ``max_weekends`` weekends, within their per-type
maxima and their most minutes, with the shift rotation from Saturday to Sunday; a cover row of
a weekend day is short by what the chosen cells leave. Minimising the weekend shortfall (each
row at its ``weight_under``) relaxes every roster, so CP-SAT's bound is a lower bound on the
weekend shortfall of any roster, tighter than ``bench/weekend_bound.py`` (which ignores shift
types and days off); the best value found says how far the weekends alone could go.

With ``--roster`` the model keeps that roster's weekdays and adds, one tie at a time
(``--ties``), what they impose on the weekends: ``caps`` (the per-type maxima less the
weekdays' use), ``rotation`` (Friday's shift before Saturday, Monday's after Sunday),
``runs`` (the most consecutive shifts, with the worked runs ending on Friday and starting on
Monday) and ``minutes`` (the most minutes less the weekdays'). The roster's own weekends meet
every tie (they are the search's hint), so the optimum never exceeds its weekend shortfall; a
tie that lifts the value to about the roster's says which weekday structure holds the weekends
short. (CP-SAT may not complete the hint within ``--seconds``: a value found a little above the
roster's says the same.)

    .venv/bin/python bench/weekend_relax.py --data ../shared/benchmarks/shift_scheduling \\
        --instance 22 --seconds 60 [--roster r.json --ties caps,rotation,runs,minutes]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ortools.sat.python import cp_model  # noqa: E402

from actors.solve.checker import objective_breakdown  # noqa: E402
from actors.solve.constraints import weekend_days  # noqa: E402
from actors.solve.reader import parse_problem_text  # noqa: E402
from actors.solve.schema import Assignments, RosterProblem, Staff  # noqa: E402

TIES = ("caps", "rotation", "runs", "minutes")
Cells = dict[tuple[int, str], cp_model.IntVar]  # (day, shift id) -> one member's choice


class Relaxation:
    """The weekend cells' model; ``cells[e]`` holds member ``e``'s choices."""

    def __init__(self, problem: RosterProblem, roster: Assignments | None = None,
                 ties: tuple[str, ...] = ()) -> None:
        self.problem, self.roster, self.ties = problem, roster, ties
        self.model = cp_model.CpModel()
        self.length = {s.id: s.length_minutes for s in problem.shifts}
        self.follow = {s.id: set(s.cannot_follow) for s in problem.shifts}
        self.weekends = weekend_days(problem)
        self.weekend = weekend_set(problem)
        self.firsts = {days[0] for days in self.weekends}  # (the rotation tie's Saturdays
        self.lasts = {days[-1] for days in self.weekends}  # and Sundays)
        self.cells = [self._member(st) for st in problem.staff]
        self.short = self._cover()
        self.model.minimize(sum(w * v for w, v in self.short))

    def _member(self, st: Staff) -> Cells:
        m, off = self.model, set(st.days_off)
        types = [s.id for s in self.problem.shifts if st.max_shifts.get(s.id, 1) > 0]
        allowed = set(types)
        cells: Cells = {}
        worked = []
        for days in self.weekends:
            on = m.new_bool_var("")
            worked.append(on)
            for d in days:
                if d not in off:
                    m.add(sum(cells.setdefault((d, s), m.new_bool_var("")) for s in types)
                          <= on)
            for sat, sun in zip(days, days[1:], strict=False):
                for s in types:
                    for t in self.follow[s] & allowed:
                        if (sat, s) in cells and (sun, t) in cells:
                            m.add_bool_or([cells[sat, s].Not(), cells[sun, t].Not()])
        if st.max_weekends is not None:
            m.add(sum(worked) <= st.max_weekends)
        used = self._weekday_use(st)
        self._limits(st, cells, used)
        if self.roster is not None:
            self._tie(st, cells, used)
            for (d, s), v in cells.items():  # (the roster's own weekends: a start that meets
                m.add_hint(v, self.roster[st.id][d] == s)  # every tie)
        return cells

    def _weekday_use(self, st: Staff) -> list[str | None]:
        """The roster's row for ``st`` with its weekend cells blanked (empty: no roster)."""
        row = self.roster[st.id] if self.roster is not None else []
        return [None if d in self.weekend else v for d, v in enumerate(row)]

    def _limits(self, st: Staff, cells: Cells, used: list[str | None]) -> None:
        """Per-type maxima and most minutes, less the weekdays' use where tied (``used`` is
        empty without a roster)."""
        for s, cap in st.max_shifts.items():
            mine = [v for (_, t), v in cells.items() if t == s]
            left = cap - (used.count(s) if "caps" in self.ties else 0)
            if mine and left < len(mine):
                self.model.add(sum(mine) <= max(0, left))
        if st.max_total_minutes is not None:
            spent = sum(self.length[v] for v in used if v) if "minutes" in self.ties else 0
            self.model.add(sum(self.length[t] * v for (_, t), v in cells.items())
                           <= max(0, st.max_total_minutes - spent))

    def _tie(self, st: Staff, cells: Cells, row: list[str | None]) -> None:
        if "rotation" in self.ties:
            for (d, t), v in cells.items():
                before = row[d - 1] if d in self.firsts and d > 0 else None
                after = row[d + 1] if d in self.lasts and d + 1 < len(row) else None
                if (before and t in self.follow[before]) or (after in self.follow[t]):
                    self.model.add(v == 0)
        if "runs" in self.ties and st.max_consecutive_shifts is not None:
            by_day: dict[int, list[cp_model.IntVar]] = {}
            for (d, _), v in cells.items():
                by_day.setdefault(d, []).append(v)
            for wd in self.weekends:
                on = [by_day.get(day, []) for day in wd]
                self._runs(st.max_consecutive_shifts, row, wd, on)

    def _runs(self, most: int, row: list[str | None], wd: list[int],
              on: list[list[cp_model.IntVar]]) -> None:
        """At most ``most`` shifts in a row across weekend ``wd`` (``on``: its days'
        cells) and the worked runs that end the day before it and start the day after it."""
        before, after = _run(row, wd[0] - 1, -1), _run(row, wd[-1] + 1, 1)
        for ends, run in ((on[0], before), (on[-1], after)):
            if ends and run + 1 > most:
                self.model.add(sum(ends) == 0)
        if all(on) and before + len(wd) + after > most:
            self.model.add(sum(v for day in on for v in day) <= len(wd) - 1)

    def _cover(self) -> list[tuple[int, cp_model.IntVar]]:
        short = []
        for row in self.problem.cover:
            if row.day not in self.weekend:
                continue
            counted = [self.cells[e][row.day, row.shift_id]
                       for e, st in enumerate(self.problem.staff)
                       if (row.day, row.shift_id) in self.cells[e]
                       and (row.skill is None or row.skill in st.skills)]
            v = self.model.new_int_var(0, row.requirement, "")
            self.model.add(v + sum(counted) >= row.requirement)
            short.append((row.weight_under, v))
        return short

    def solve(self, seconds: float, workers: int = 2, seed: int = 0) -> dict:
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = seconds
        solver.parameters.num_workers = workers
        solver.parameters.random_seed = seed
        code = solver.solve(self.model)
        found = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        return {"status": solver.status_name(code),
                "found": round(solver.objective_value) if found else None,
                "bound": solver.best_objective_bound if found else None,
                "seconds": round(solver.wall_time, 1)}


def _run(row: list[str | None], d: int, step: int) -> int:
    """How many days in a row ``row`` works from ``d`` on, in direction ``step``."""
    n = 0
    while 0 <= d < len(row) and row[d] is not None:
        n, d = n + 1, d + step
    return n


def weekend_set(problem: RosterProblem) -> set[int]:
    """Every day of a weekend in the horizon."""
    return {d for days in weekend_days(problem) for d in days}


def weekend_shortfall(problem: RosterProblem, roster: Assignments) -> int:
    """The roster's cost of short weekend rows (each at its ``weight_under``), as the
    checker counts it over the weekend rows alone."""
    weekend = weekend_set(problem)
    rows = [row for row in problem.cover if row.day in weekend]
    return objective_breakdown(problem.model_copy(update={"cover": rows}), roster).under_cover


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "tests" / "data" / "shift_scheduling")
    ap.add_argument("--instance", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--roster", type=Path, help="a roster (JSON) whose weekdays are kept")
    ap.add_argument("--ties", default="", help=f"with --roster, any of {','.join(TIES)}")
    args = ap.parse_args()
    problem = parse_problem_text((args.data / f"Instance{args.instance}.txt").read_text())
    roster = json.loads(args.roster.read_text()) if args.roster else None
    ties = tuple(t for t in args.ties.split(",") if t)
    if unknown := set(ties) - set(TIES):
        ap.error(f"--ties: unknown {', '.join(sorted(unknown))}")
    row = {"instance": args.instance, "ties": list(ties),
           **Relaxation(problem, roster, ties).solve(args.seconds)}
    if roster is not None:
        row["roster_weekend_short"] = weekend_shortfall(problem, roster)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
