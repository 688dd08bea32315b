"""Column generation over whole work schedules: a tight bound, and reduced costs for the LNS.

The master problem picks one *schedule* (a column: the shift of every day) per staff member and
pays the cover deficits; its LP relaxation is far tighter than the cell model's because every
column already satisfies all of that member's hard rules. Columns come from *pricing*: per
member, a small CP-SAT model of that member's rules minimises the column's reduced cost under
the LP's cover duals. After a round in which every member was priced to optimality, the
Lagrangian bound of the round's duals is a valid lower bound on the roster objective (see
:func:`generate`). The reduced cost of each member's schedule in a roster says how far that
schedule is from anything the LP would pick: the LNS frees the costliest ones first.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from actors.solve.constraints import ModelFlags, build_model
from actors.solve.schema import Assignments, RosterProblem

log = logging.getLogger(__name__)
SCALE = 1000  # pricing objective coefficients are duals × SCALE rounded down (a valid bound)
Column = tuple[int, ...]  # per day: the shift index worked, or -1 for a day off
BOUND_EPS = 1e-6  # taken off every Lagrangian bound: float sums may overshoot by an ulp
RC_EPS = 1e-6  # a column prices out when its reduced cost is below -RC_EPS


class MasterLpFailed(RuntimeError):
    """GLOP did not solve the master LP to optimality (numerical trouble)."""


@dataclass
class _Staff:
    """What the master needs of one member: request costs and which cover rows count them."""

    on: dict[tuple[int, int], int]
    off: dict[tuple[int, int], int]
    rows: dict[tuple[int, int], list[int]]  # (day, shift) -> the cover rows they count in
    # (several when rows of different skills share a cell)

    def rows_of(self, col: Column) -> list[int]:
        """The cover rows this schedule counts towards."""
        return [r for d, s in enumerate(col) if s >= 0 for r in self.rows.get((d, s), ())]

    def cost(self, col: Column) -> int:
        worked = {(d, s) for d, s in enumerate(col) if s >= 0}
        return (sum(w for cell, w in self.on.items() if cell not in worked)
                + sum(w for cell, w in self.off.items() if cell in worked))


def _staff_data(problem: RosterProblem) -> list[_Staff]:
    hid = {s.id: i for i, s in enumerate(problem.shifts)}
    out = []
    for st in problem.staff:
        rows: dict[tuple[int, int], list[int]] = {}
        for r, c in enumerate(problem.cover):
            if c.skill is None or c.skill in st.skills:
                rows.setdefault((c.day, hid[c.shift_id]), []).append(r)
        on: dict[tuple[int, int], int] = {}
        off: dict[tuple[int, int], int] = {}
        for requests, into in ((problem.shift_on_requests, on), (problem.shift_off_requests, off)):
            for q in requests:  # a repeated request counts again (as in the checker)
                if q.staff_id == st.id:
                    cell = (q.day, hid[q.shift_id])
                    into[cell] = into.get(cell, 0) + q.weight
        out.append(_Staff(on, off, rows))
    return out


class _Collector(cp_model.CpSolverSolutionCallback):
    def __init__(self, x: list[list[cp_model.IntVar]]) -> None:
        super().__init__()
        self.x = x
        self.found: list[Column] = []

    def on_solution_callback(self) -> None:
        self.found.append(tuple(next((s for s, v in enumerate(row) if self.boolean_value(v)), -1)
                                for row in self.x))


class Pricer:
    """One member's pricing problem: their hard rules in a small model (no flow: it halved the
    time for the same optimum) whose objective is rewritten for each round of duals."""

    def __init__(self, problem: RosterProblem, e: int) -> None:
        st = problem.staff[e]
        single = problem.model_copy(update={
            "staff": [st], "cover": [],
            "shift_on_requests": [q for q in problem.shift_on_requests if q.staff_id == st.id],
            "shift_off_requests": [q for q in problem.shift_off_requests if q.staff_id == st.id]})
        self.rm = build_model(single, ModelFlags(symmetry=False, flow=False,
                                                 windows=False))
        self.x = [[self.rm.x[0, d, s] for s in range(len(problem.shifts))]
                  for d in range(problem.horizon.days)]

    def price(self, weights: dict[tuple[int, int], float], limit_s: float,
              seed: int, below: float = math.inf) -> tuple[list[Column], float, bool]:
        """Columns minimising ``sum(weights[cell] * x[cell])``: every improving one found, the
        proven lower bound on that minimum, and whether it was proven optimal (``below``,
        what a column must cost to price out, is not used here: the DP's alone)."""
        m = self.rm.model
        m.clear_objective()
        terms = [(self.x[d][s], math.floor(w * SCALE)) for (d, s), w in weights.items()]
        m.minimize(sum(c * v for v, c in terms if c))
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = limit_s
        solver.parameters.random_seed = seed
        solver.parameters.linearization_level = 2
        cb = _Collector(self.x)
        code = solver.solve(m, cb)
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return [], -math.inf, False
        return cb.found, solver.best_objective_bound / SCALE, code == cp_model.OPTIMAL


def make_pricers(problem: RosterProblem) -> list[Pricer]:
    """One pricer per member: the dynamic program of :mod:`actors.solve.pricing` (about a
    millisecond each) unless its minutes resource would be too fine, then CP-SAT."""
    from actors.solve.pricing import DpPricer, dp_supported

    if dp_supported(problem):
        return [DpPricer(problem, e) for e in range(len(problem.staff))]  # type: ignore[misc]
    return [Pricer(problem, e) for e in range(len(problem.staff))]


@dataclass
class LpSolution:
    value: float
    conv: list[float]  # per member
    cover: list[float]  # per cover row
    chosen: list[dict[Column, float]] = field(default_factory=list)  # per member: x > 0


def columns_of(problem: RosterProblem, roster: Assignments) -> list[Column]:
    """Each member's schedule in ``roster`` as a column."""
    hid = {s.id: i for i, s in enumerate(problem.shifts)}
    return [tuple(-1 if v is None else hid[v] for v in roster[st.id]) for st in problem.staff]


def roster_of_columns(problem: RosterProblem, cols: list[Column]) -> Assignments:
    """The roster in which each member works their column (the inverse of columns_of)."""
    return {st.id: [None if s < 0 else problem.shifts[s].id for s in col]
            for st, col in zip(problem.staff, cols, strict=True)}


class MasterRows:
    """The master's rows in a linear solver (GLOP for the LP, SCIP for the integer master):
    one convexity row per member, one cover row per requirement with its under- and
    over-cover slacks and their weights in the objective, minimised."""

    def __init__(self, solver: pywraplp.Solver, problem: RosterProblem,
                 staff: list[_Staff]) -> None:
        self.staff = staff
        self.conv = [solver.Constraint(1, 1) for _ in problem.staff]
        self.cover = [solver.Constraint(c.requirement, c.requirement) for c in problem.cover]
        self.obj = solver.Objective()
        for r, c in enumerate(problem.cover):
            under = solver.NumVar(0, solver.infinity(), "")
            over = solver.NumVar(0, solver.infinity(), "")
            self.cover[r].SetCoefficient(under, 1)
            self.cover[r].SetCoefficient(over, -1)
            self.obj.SetCoefficient(under, c.weight_under)
            self.obj.SetCoefficient(over, c.weight_over)
        self.obj.SetMinimization()

    def add(self, e: int, col: Column, var: pywraplp.Variable) -> None:
        """``var`` picks member ``e``'s schedule ``col``: its cost and the rows it counts in."""
        self.conv[e].SetCoefficient(var, 1)
        self.obj.SetCoefficient(var, self.staff[e].cost(col))
        for r in self.staff[e].rows_of(col):
            self.cover[r].SetCoefficient(var, 1)


class ColumnPool:
    """Every distinct schedule known per member, and the master LP over them (kept between
    rounds: a new column is one more LP variable, a fixed member's other columns get an upper
    bound of 0)."""

    def __init__(self, problem: RosterProblem) -> None:
        self.problem = problem
        self.staff = _staff_data(problem)
        self.columns: list[dict[Column, pywraplp.Variable]] = [{} for _ in problem.staff]
        self.cursor = 0  # partial pricing: where the next round starts (generate's chunk)
        self.rebuild()

    def rebuild(self) -> None:
        """A fresh GLOP master holding every known column (with its current upper bound)."""
        problem = self.problem
        old = [{col: var.ub() for col, var in cols.items()} for cols in self.columns]
        self.lp = pywraplp.Solver.CreateSolver("GLOP")
        self.rows = MasterRows(self.lp, problem, self.staff)
        self.columns = [{} for _ in problem.staff]
        for e, cols in enumerate(old):
            for col, ub in cols.items():
                self.add(e, col)
                self.columns[e][col].SetUb(ub)

    def add(self, e: int, col: Column) -> bool:
        """Add member ``e``'s schedule ``col`` to the LP; False when it is already there."""
        if col in self.columns[e]:
            return False
        var = self.lp.NumVar(0, self.lp.infinity(), "")
        self.rows.add(e, col, var)
        self.columns[e][col] = var
        return True

    def add_roster(self, roster: Assignments) -> None:
        for e, col in enumerate(columns_of(self.problem, roster)):
            self.add(e, col)

    def fix(self, e: int, col: Column) -> None:
        """Member ``e`` works ``col`` (added if new): their other columns are bounded to 0."""
        self.add(e, col)
        for other, var in self.columns[e].items():
            var.SetUb(self.lp.infinity() if other == col else 0.0)

    def unfix(self) -> None:
        for cols in self.columns:
            for var in cols.values():
                var.SetUb(self.lp.infinity())

    def solve_lp(self) -> LpSolution:
        """The master LP: its value, its duals and the columns it uses."""
        code = self.lp.Solve()
        if code != pywraplp.Solver.OPTIMAL:  # GLOP lost its warm-started basis: from scratch
            log.info("master LP status %d: rebuilt", code)
            self.rebuild()
            code = self.lp.Solve()
        if code != pywraplp.Solver.OPTIMAL:
            raise MasterLpFailed(f"master LP status {code}")
        chosen = [{col: v for col, var in cols.items() if (v := var.solution_value()) > 1e-9}
                  for cols in self.columns]
        rows = self.rows
        return LpSolution(rows.obj.Value(), [c.dual_value() for c in rows.conv],
                          [c.dual_value() for c in rows.cover], chosen)

    def reduced_cost(self, e: int, col: Column, sol: LpSolution) -> float:
        data = self.staff[e]
        return data.cost(col) - sol.conv[e] - sum(sol.cover[r] for r in data.rows_of(col))

    def roster_reduced_costs(self, roster: Assignments, sol: LpSolution) -> list[float]:
        """Per member, the reduced cost of their schedule in ``roster``: how far it is from
        what the LP would pick (they sum, with the cover slacks', to objective minus LP)."""
        return [self.reduced_cost(e, col, sol)
                for e, col in enumerate(columns_of(self.problem, roster))]

    def pays_below(self, e: int, sol: LpSolution) -> float:
        """What a schedule of member ``e`` must cost under :meth:`weights` to price out
        (reduced cost below ``-RC_EPS``); the pricer may skip every schedule at or above it,
        and then its optimum is at least this, so the Lagrangian bound stays valid."""
        return sol.conv[e] - sum(self.staff[e].on.values()) - RC_EPS

    def weights(self, e: int, cover_duals: list[float]) -> dict[tuple[int, int], float]:
        """Per cell, the pricing objective coefficient: request cost change minus cover dual."""
        data = self.staff[e]
        out: dict[tuple[int, int], float] = {}
        for cell, w in data.on.items():
            out[cell] = out.get(cell, 0.0) - w
        for cell, w in data.off.items():
            out[cell] = out.get(cell, 0.0) + w
        for cell, rows in data.rows.items():
            out[cell] = out.get(cell, 0.0) - sum(cover_duals[r] for r in rows)
        return out


def clipped_duals(problem: RosterProblem, sol: LpSolution) -> list[float]:
    """The cover duals clipped to ``[-weight_over, weight_under]``: there the Lagrangian bound
    is valid whatever the LP did (its slack columns' reduced costs are never negative)."""
    return [min(c.weight_under, max(-c.weight_over, y))
            for c, y in zip(problem.cover, sol.cover, strict=True)]


@dataclass
class CgState:
    lp: float = math.inf  # the restricted master LP's value (the master LP's once converged)
    bound: float = 0.0  # the best valid lower bound on the roster objective found so far
    rounds: int = 0  # master LP solves
    partial: int = 0  # ... rounds that priced fewer than every free member (no bound)
    priced: int = 0  # pricing calls
    converged: bool = False
    solution: LpSolution | None = None


def generate(pool: ColumnPool, pricers: list[Pricer], deadline: float, state: CgState,
             halt: Callable[[], bool] = lambda: False,
             on_bound: Callable[[float], None] | None = None,
             price_limit_s: float = 0.5, seed: int = 0,
             fixed: Collection[int] = (), chunk: int = 0) -> CgState:
    """Column generation rounds until no column prices out, the deadline, or ``halt()``;
    members in ``fixed`` are not priced (a dive has fixed their schedule; no bound then).

    A round solves the master LP and prices members under its duals. ``chunk`` = 0 prices
    every free member; ``chunk`` > 0 (partial pricing) prices them in turn from where the last
    round stopped (``pool.cursor``) and re-solves the LP once ``chunk`` were priced and one
    gave a column — while none does, it prices on under the same duals, so a round that
    reaches every free member without a column proves convergence, as a full round does.

    After a round in which every member was priced to optimality under the same duals,
    ``state.bound`` takes the Lagrangian bound of those cover duals (clipped to
    ``[-weight_over, weight_under]``, where it is valid whatever the LP did):
    ``sum(dual * requirement) + sum over members of their cheapest column's cost minus its
    duals``. A partial round gives no bound.
    """
    free = [e for e in range(len(pricers)) if e not in fixed]
    step = min(chunk, len(free)) if chunk > 0 else len(free)
    while not halt() and time.monotonic() < deadline:
        sol = pool.solve_lp()
        state.lp, state.rounds, state.solution = sol.value, state.rounds + 1, sol
        duals = clipped_duals(pool.problem, sol)
        lagrange = sum(y * c.requirement for y, c in zip(duals, pool.problem.cover, strict=True))
        exact, added, priced = not fixed, 0, 0
        first = pool.cursor if chunk > 0 else 0
        while priced < len(free) and (priced < step or added == 0):
            if halt() or time.monotonic() >= deadline:
                return state
            e = free[(first + priced) % len(free)]
            cols, low, optimal = pricers[e].price(pool.weights(e, duals), price_limit_s,
                                                  seed + state.rounds,
                                                  below=pool.pays_below(e, sol))
            priced, exact = priced + 1, exact and optimal
            lagrange += low + sum(pool.staff[e].on.values())
            for col in cols:
                if pool.reduced_cost(e, col, sol) < -RC_EPS and pool.add(e, col):
                    added += 1
        state.priced += priced
        pool.cursor = first + priced
        if priced < len(free):
            state.partial += 1  # no bound, no proof of convergence
            continue
        lagrange -= BOUND_EPS
        if exact and lagrange > state.bound:
            state.bound = lagrange
            if on_bound is not None:
                on_bound(lagrange)
        if added == 0 and (exact or fixed):
            state.converged = True
            return state
    return state
