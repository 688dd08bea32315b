"""Exact pricing by dynamic programming: one member's cheapest schedule under cell weights.

Column generation (:mod:`actors.solve.colgen`) asks, every round and for every member, for the
schedule minimising ``sum(weights[day, shift])`` over the cells it works, under that member's
hard rules. This module answers by label setting over the days: a label is a partial schedule
summarised by what its future depends on — the last day's shift (or off), the length of the
current run and whether it touched the start of the horizon, the total minutes (in units of the
shifts' common divisor), the weekends worked and the counts of the shift types whose maximum
can bind. Labels with the same key (last, run, start, minutes) are compared by cost, weekends
and counts; a label no better in any of them is dropped (dominance). Shifts after which the
same shifts are forbidden share one ``last`` in the exact DP (their futures are the same):
Instance 13's 18 shift types make 7 such classes, and a member prices in 22-31 ms instead of
65-78 ms (random duals, 40 members; the beams keep one ``last`` per shift, as before). Every
rule of the benchmark is exact, so the cheapest final label is the pricing optimum and its
cost a valid bound — what CP-SAT gave in 33–64 ms per member, in about a millisecond (on the
small instances).

The kernels are compiled by numba on first use (cached on disk); :func:`dp_supported` says
when the state would be too large (minutes in very fine units) and CP-SAT prices instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce

import numpy as np

from actors.solve.schema import RosterProblem

MAX_UNITS = 400  # total-minutes resolution above which the DP is not used (CP-SAT prices)
NONE = -2  # "last" of the label before day 0
OFF = -1
Column = tuple[int, ...]


@dataclass(frozen=True)
class Rules:
    """One member's hard rules as arrays (shift indexes as in ``problem.shifts``)."""

    allowed: np.ndarray  # (days, shifts) bool: days off and types with a maximum of 0 are False
    forbid: np.ndarray  # (shifts, shifts) bool: forbid[s, t] = t may not follow s
    units: np.ndarray  # (shifts,) int64: length in units of the common divisor
    tmin: int
    tmax: int
    rest: np.ndarray  # (days,) int64: most units workable strictly after each day
    maxc: int
    minc: int
    minoff: int
    weekend: np.ndarray  # (days,) int64: weekend index of the day, -1 on weekdays
    maxw: int  # -1 when the maximum cannot bind (weekends are then not tracked)
    track: np.ndarray  # (shifts,) int64: index of the type's counter, -1 when untracked
    caps: np.ndarray  # (tracked,) int64
    klass: np.ndarray  # (shifts,) int64: the first shift with the same successors (forbid row)

    @property
    def weekend_cells(self) -> np.ndarray:
        """(days, 1): 1.0 on weekend days (broadcasts over the shifts)."""
        return (self.weekend >= 0).astype(np.float64)[:, None]


def _unit(problem: RosterProblem) -> int:
    return reduce(math.gcd, (s.length_minutes for s in problem.shifts))


def dp_supported(problem: RosterProblem) -> bool:
    """The DP's minutes resource stays small (else CP-SAT prices)."""
    unit = _unit(problem)
    most = sum(max(s.length_minutes for s in problem.shifts) for _ in range(problem.horizon.days))
    for st in problem.staff:
        cap = st.max_total_minutes if st.max_total_minutes is not None else most
        if min(cap, most) // unit > MAX_UNITS:
            return False
    return True


def forbid_matrix(problem: RosterProblem) -> np.ndarray:
    """(shifts, shifts) bool: ``[s, t]`` when shift ``t`` may not follow shift ``s``."""
    hid = {sh.id: s for s, sh in enumerate(problem.shifts)}
    forbid = np.zeros((len(problem.shifts), len(problem.shifts)), dtype=np.bool_)
    for s, sh in enumerate(problem.shifts):
        for t in sh.cannot_follow:
            forbid[s, hid[t]] = True
    return forbid


def weekend_index(problem: RosterProblem) -> np.ndarray:
    """(days,) int64: the weekend each day belongs to, -1 on weekdays."""
    first = problem.horizon.first_weekday()
    return np.array([(first + d) // 7 if (first + d) % 7 in (5, 6) else -1
                     for d in range(problem.horizon.days)], dtype=np.int64)


def rules_of(problem: RosterProblem, e: int) -> Rules:
    st, days, shifts = problem.staff[e], problem.horizon.days, problem.shifts
    unit = _unit(problem)
    units = np.array([s.length_minutes // unit for s in shifts], dtype=np.int64)
    allowed = np.ones((days, len(shifts)), dtype=np.bool_)
    for d in st.days_off:
        allowed[d, :] = False
    for s, sh in enumerate(shifts):
        if st.max_shifts.get(sh.id, days) == 0:
            allowed[:, s] = False
    forbid = forbid_matrix(problem)
    best = np.where(allowed, units[None, :], 0).max(axis=1)
    rest = np.concatenate([np.cumsum(best[::-1])[::-1][1:], [0]]).astype(np.int64)
    tmax = int(best.sum()) if st.max_total_minutes is None else st.max_total_minutes // unit
    tmin = -(-st.min_total_minutes // unit)
    track = np.full(len(shifts), -1, dtype=np.int64)
    caps: list[int] = []
    for s, sh in enumerate(shifts):
        cap = st.max_shifts.get(sh.id)
        if cap is not None and 0 < cap < min(int(allowed[:, s].sum()), tmax // int(units[s])):
            track[s] = len(caps)
            caps.append(cap)
    weekend = weekend_index(problem)
    n_weekends = len({w for w in weekend if w >= 0})
    maxw = st.max_weekends if st.max_weekends is not None and st.max_weekends < n_weekends else -1
    maxc = st.max_consecutive_shifts or days
    klass = np.array([next(t for t in range(len(shifts)) if (forbid[t] == forbid[s]).all())
                      for s in range(len(shifts))], dtype=np.int64)
    return Rules(allowed=allowed, forbid=forbid, units=units, tmin=tmin, tmax=tmax, rest=rest,
                 maxc=maxc, minc=st.min_consecutive_shifts, minoff=st.min_consecutive_days_off,
                 weekend=weekend, maxw=maxw, track=track, caps=np.array(caps, dtype=np.int64),
                 klass=klass)


def _kernels():  # noqa: ANN202 - numba dispatchers
    """Compile (or load from numba's cache) the DP kernel; import numba only here."""
    from actors.solve import _pricing_kernels

    return _pricing_kernels.run_dp


def weight_matrix(weights: dict[tuple[int, int], float], days: int, shifts: int) -> np.ndarray:
    """Cell weights ``{(day, shift): w}`` as a ``(days, shifts)`` array (0 where absent)."""
    w = np.zeros((days, shifts))
    for (d, s), v in weights.items():
        w[d, s] = v
    return w


class DpPricer:
    """Exact pricing for one member; same interface as :class:`actors.solve.colgen.Pricer`."""

    def __init__(self, problem: RosterProblem, e: int) -> None:
        self.rules = rules_of(problem, e)
        self.days, self.shifts = self.rules.allowed.shape
        self.run_dp = _kernels()
        self.allow_off = np.ones(self.days, dtype=np.bool_)  # the kernel can forbid days off
        self.tracked = np.zeros(len(self.rules.caps), dtype=np.bool_)
        self.identity = np.arange(self.shifts, dtype=np.int64)

    def price(self, weights: dict[tuple[int, int], float], limit_s: float = 0.0,
              seed: int = 0, k: int = 5, below: float = math.inf,
              ) -> tuple[list[Column], float, bool]:
        """Up to ``k`` cheapest schedules costing less than ``below`` (cheapest first), the
        optimum, and True (exact); ([], below, True) when none costs less (``below`` is then a
        lower bound on the optimum: inf when the member has no valid schedule)."""
        return self.price_matrix(weight_matrix(weights, self.days, self.shifts), k,
                                 below=below)

    def price_matrix(self, w: np.ndarray, k: int = 5,
                     allowed: np.ndarray | None = None,
                     allow_off: np.ndarray | None = None,
                     beam: int = 0, below: float = math.inf,
                     ) -> tuple[list[Column], float, bool]:
        """Lazy counters: a per-type maximum is left out of the DP until a best schedule breaks
        it, then that type gets its counter and the DP runs again: the relaxation's optimum is
        a bound, so a best schedule within every maximum is optimal. An exact call keeps for the
        next call only the counters of the maxima its best schedule reaches (they will likely
        bind again): every counter ever needed, kept, slowed every later call (Instance 13's
        root round 25, 120 members: 4.99 s, against 1.89 s from none), while starting from
        none made Instances 9 and 14 run each DP again every round. A beam call keeps them
        all, as before: the construction took the same time either way on 13, 18 and 20,
        but its heuristic schedules change with the counters. ``allowed`` /
        ``allow_off`` narrow the member's own cells (forced cells).
        ``beam`` > 0: a heuristic DP keeping that many labels per state (valid schedules, no
        bound: the third value is then False). ``below``: only schedules costing less are
        sought; the DP drops every partial schedule that cannot end below it (its cost plus
        the most the days left can lower it, ``_pricing_kernels.lookahead``). Column
        generation passes what a column must cost to price out."""
        tracked = self.tracked.copy()
        allowed = self.rules.allowed if allowed is None else allowed
        allow_off = self.allow_off if allow_off is None else allow_off
        while True:
            cols, low = self._dp(w, k, tracked, allowed, allow_off, beam, below)
            if not cols:
                return [], below, beam == 0
            over = self._over_caps(cols[0]) & ~tracked
            if not over.any():
                fine = [c for c in cols if not self._over_caps(c).any()]
                self.tracked = tracked if beam else tracked & self._at_caps(cols[0])
                return fine, low, beam == 0
            tracked |= over

    def forced_costs(self, w: np.ndarray) -> np.ndarray:
        """``(days, shifts + 1)``: the cheapest schedule's cost with that day forced to that
        shift (the last column: off); inf where no valid schedule does that."""
        out = np.full((self.days, self.shifts + 1), math.inf)
        best, low, _ = self.price_matrix(w, 1)
        if not best:
            return out
        for d in range(self.days):
            for o in range(self.shifts + 1):
                if best[0][d] == (o if o < self.shifts else -1):
                    out[d, o] = low
                    continue
                allowed, allow_off = self.rules.allowed.copy(), self.allow_off.copy()
                allowed[d, :] = False
                if o < self.shifts:
                    if not self.rules.allowed[d, o]:
                        continue
                    allowed[d, o], allow_off[d] = True, False
                out[d, o] = self.price_matrix(w, 1, allowed, allow_off)[1]
        return out

    def _counts(self, col: Column) -> np.ndarray:
        r = self.rules
        counts = np.zeros(len(r.caps), dtype=np.int64)
        for s in col:
            if s >= 0 and r.track[s] >= 0:
                counts[r.track[s]] += 1
        return counts

    def _over_caps(self, col: Column) -> np.ndarray:
        return self._counts(col) > self.rules.caps

    def _at_caps(self, col: Column) -> np.ndarray:
        return self._counts(col) >= self.rules.caps

    def _dp(self, w: np.ndarray, k: int, tracked: np.ndarray, allowed: np.ndarray,
            allow_off: np.ndarray, beam: int = 0,
            below: float = math.inf) -> tuple[list[Column], float]:
        r = self.rules
        track = np.array([t if t >= 0 and tracked[t] else -1 for t in r.track], dtype=np.int64)
        klass = r.klass if beam == 0 else self.identity  # (a beam keeps its labels per shift)
        paths, costs = self.run_dp(w, allowed, allow_off, r.forbid, r.units, r.tmin, r.tmax,
                                   r.rest, r.maxc, r.minc, r.minoff, r.weekend, r.maxw, track,
                                   r.caps, k, beam, klass, below)
        if len(costs) == 0:
            return [], math.inf
        return [tuple(int(s) for s in row) for row in paths], float(costs[0])


def warm_up() -> None:
    """Compile or load the kernels (the DP's and the annealer's) on a one-member, one-day
    problem."""
    from actors.solve.anneal import Annealer
    from actors.solve.schema import Horizon, ShiftType, Staff

    tiny = RosterProblem(horizon=Horizon(days=1), shifts=[ShiftType(id="D", length_minutes=60)],
                         staff=[Staff(id="A")])
    DpPricer(tiny, 0).price({(0, 0): -1.0})
    Annealer(tiny, {"A": [None]}).run(10, 1.0, 1.0, 1.0, 0)
