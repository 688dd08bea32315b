"""Simulated annealing over whole rosters, with hard rules as weighted violations.

The LNS (:mod:`actors.solve.lns`) re-solves a part of the roster exactly; where a better
roster needs many small coordinated changes across the whole staff — on Instance 13, a member
one shift short of their most minutes takes a short row only if another's run moves to keep
two days off — its neighbourhoods are too small or too slow to close. This module makes
millions of cheap moves a second instead (numba, :mod:`actors.solve._anneal_kernels`):

- a cell gets another value (a shift the member may work, or off);
- two members swap their values over a block of 1–7 days (cover unchanged when they share
  skills; their rules change);
- a member takes a new value on a day and another member takes that member's old one;
- a member moves a day's value to another day up to a week away;
- a member's block of 2–15 days rotates by one day (every day takes its neighbour's value and
  the block's last day its first's): a run pattern shifts a day, its lengths, shift types and
  minutes kept — what a member needs to work the other day of a weekend they half work
  without running too long or resting too little;
- a member's block of 1–7 days swaps with the same days whole weeks away: every day keeps
  its day of the week, so a weekend's work moves to another weekend with the weekdays around
  it (its runs, minutes and shift types kept) — where some weekends have more staff than
  their rows need and others fewer;
- a member takes the shift of a cover row below its requirement (a targeted move), with a
  worked day up to a week away turned into a day off when that day was their day off;
- a member who works one day of a weekend works the other day too (a targeted move), in a
  shift type their neighbouring days allow, one of a row below its requirement first; half the
  time a worked day up to a week away becomes a day off (minutes kept): a weekend worked on
  one day spends one of the member's most weekends on one shift, and the other rules rarely
  let two or three random moves in a row complete it;
- a member who asked for a shift on a day and does not work it swaps a block of 1–7 days
  around that day with a member who works it (a targeted block swap: the cover is unchanged,
  the request is honoured if both members' rules allow it).

Their shares come from the plan the annealer is built with (``plan.anneal_mix``, the rotations'
``plan.anneal_rotate``, the week moves' ``plan.anneal_weeks``, the fill share
``plan.anneal_fill``, the weekend completions' ``plan.anneal_complete`` and the request share
``plan.anneal_requests``; :meth:`Annealer.set_shares`, :meth:`Annealer.set_fill`,
:meth:`Annealer.set_complete`, :meth:`Annealer.set_requests`).

Moves are accepted on the objective's change plus, with :meth:`Annealer.set_split`, a shaping
cost for every weekend a member works on one day only: where weekends are what runs out, such
a weekend spends one of the member's most weekends on one shift (``plan.anneal_split``, falling
to 0 over the phase). The best roster follows the objective alone.

A move may break a hard rule: the annealer minimises ``objective + weight · violations``,
where a member's violation counts the whole steps (shifts or days) by which each rule is
broken (:func:`~actors.solve._anneal_rules.violation`; 0 exactly when the checker finds the
schedule valid — tested against it), and keeps the best roster without violations. The
objective is the checker's, kept exactly by deltas (tested against it after every batch).

Contract: :meth:`Annealer.run` does a fixed number of moves (work, not time: the caller
bounds it by its deadline between batches), deterministic for a seed; :attr:`best_objective`
never rises and :meth:`best_roster` is always a roster the checker accepts.
"""

from __future__ import annotations

import numpy as np

from actors.solve.checker import check_roster
from actors.solve.constraints import weekend_days
from actors.solve.plan import Plan
from actors.solve.pricing import forbid_matrix, weekend_index
from actors.solve.schema import Assignments, RosterProblem

OFF = -1


def _kernels():  # noqa: ANN202 - numba dispatchers
    from actors.solve import _anneal_kernels, _anneal_rules

    return _anneal_kernels.anneal, _anneal_rules.violation


def whole_weekends(problem: RosterProblem) -> np.ndarray:
    """Per weekend index (as :func:`~actors.solve.pricing.weekend_index` numbers them), its
    Saturday where both its days are in the horizon, else -1 (at least one entry)."""
    first = [days[0] if len(days) == 2 else -1 for days in weekend_days(problem)]
    return np.array(first or [-1], dtype=np.int64)


class Annealer:
    """One annealing state over ``problem``, started from a roster the checker accepts."""

    def __init__(self, problem: RosterProblem, roster: Assignments,
                 plan: Plan | None = None) -> None:
        """``plan`` (default: :class:`Plan`'s defaults) gives the moves' shares."""
        self.problem = problem
        self.kernel, self.rules = _kernels()
        plan = plan or Plan()
        shares = plan.anneal_mix  # (rotations and week moves from their own fields where the
        # mix leaves them out: a fifth share overrides anneal_rotate, a sixth anneal_weeks)
        planned = (max(0.0, plan.anneal_rotate), max(0.0, plan.anneal_weeks))
        if 4 <= len(shares) <= 6:
            shares = (*shares, *planned[len(shares) - 4:])
        self.fill = plan.anneal_fill
        self.complete = max(0.0, plan.anneal_complete)  # (-1: make_plan had not decided)
        self.asked = max(0.0, plan.anneal_requests)  # (-1: make_plan had not decided)
        self.split = 0.0  # the one-day weekends' shaping cost (set_split; the phase sets it)
        self.quick = True  # a move on two valid members fails on its objective change alone
        # when it must, unscored (False: every move scored whole; the same decisions)
        self.shift_ids = [s.id for s in problem.shifts]
        self.staff_ids = [s.id for s in problem.staff]
        self._static(problem)
        self.set_shares(shares)  # (after _static: the request moves need requests)
        self.reset(roster)

    def set_shares(self, shares: tuple[float, ...]) -> None:
        """The relative shares of the untargeted moves: cell, block swap, take-over, day
        move, rotation and week move (four shares: neither of the last two; five: no week
        moves)."""
        if len(shares) not in (4, 5, 6) or min(shares) < 0 or not sum(shares):
            raise ValueError(f"four to six shares, not all 0, none negative: {shares!r}")
        self.shares = (*shares, 0.0, 0.0)[:6]
        self._mix()

    def set_fill(self, share: float) -> None:
        """The share of targeted moves (a short row filled); the others keep their ratios."""
        self.fill = share
        self._mix()

    def set_complete(self, share: float) -> None:
        """The share of weekend completions (a weekend worked on one day worked on both)."""
        self.complete = share
        self._mix()

    def set_requests(self, share: float) -> None:
        """The share of request moves (a block swapped around a broken shift request)."""
        self.asked = share
        self._mix()

    def set_split(self, share: float) -> None:
        """The shaping cost of a weekend a member works on one day only, as a share of the
        weekend cover rows' mean ``weight_under`` (what the weekend shift it loses costs when
        that shift ends up short): added to what moves are accepted on, not to the objective,
        so the best roster still follows the objective alone."""
        self.split = share

    def _mix(self) -> None:
        asked = self.asked if len(self.rq_e) else 0.0
        rest = np.array(self.shares, dtype=np.float64) / sum(self.shares)
        rest *= 1.0 - self.fill - self.complete - asked
        self.mix = np.cumsum([*rest, self.fill, self.complete, asked])[:8].astype(np.float64)

    def _static(self, p: RosterProblem) -> None:
        n_e, n_d, n_s = len(p.staff), p.horizon.days, len(p.shifts)
        sid = {s: i for i, s in enumerate(self.shift_ids)}
        eid = {s: i for i, s in enumerate(self.staff_ids)}
        cost = np.zeros((n_e, n_d, n_s + 1))
        for r in p.shift_on_requests:
            cost[eid[r.staff_id], r.day, :] += r.weight
            cost[eid[r.staff_id], r.day, sid[r.shift_id]] -= r.weight
        for r in p.shift_off_requests:
            cost[eid[r.staff_id], r.day, sid[r.shift_id]] += r.weight
        self.cellcost = cost
        on = p.shift_on_requests  # (the request moves draw from these)
        self.rq_e = np.array([eid[r.staff_id] for r in on], dtype=np.int64)
        self.rq_d = np.array([r.day for r in on], dtype=np.int64)
        self.rq_s = np.array([sid[r.shift_id] for r in on], dtype=np.int64)
        by_cell: list[list[int]] = [[] for _ in range(n_d * n_s)]
        for i, row in enumerate(p.cover):
            by_cell[row.day * n_s + sid[row.shift_id]].append(i)
        self.row_ptr = np.cumsum([0] + [len(c) for c in by_cell]).astype(np.int64)
        self.rows = np.array([r for c in by_cell for r in c], dtype=np.int64)
        self.qual = np.array([[row.skill is None or row.skill in st.skills for row in p.cover]
                              for st in p.staff], dtype=np.bool_).reshape(n_e, len(p.cover))
        self.req = np.array([r.requirement for r in p.cover], dtype=np.int64)
        self.wu = np.array([r.weight_under for r in p.cover], dtype=np.float64)
        self.wo = np.array([r.weight_over for r in p.cover], dtype=np.float64)
        self.row_day = np.array([r.day for r in p.cover], dtype=np.int64)
        self.row_shift = np.array([sid[r.shift_id] for r in p.cover], dtype=np.int64)
        self._rules(p, sid)

    def _rules(self, p: RosterProblem, sid: dict[str, int]) -> None:
        n_e, n_d, n_s = len(p.staff), p.horizon.days, len(p.shifts)
        self.length = np.array([s.length_minutes for s in p.shifts], dtype=np.int64)
        self.unit = int(self.length.min())
        self.forbid = forbid_matrix(p)
        allowed = np.ones((n_e, n_d, n_s), dtype=np.bool_)
        caps = np.full((n_e, n_s), n_d, dtype=np.int64)
        choices = np.full((n_e, n_s + 1), OFF, dtype=np.int64)
        n_choices = np.ones(n_e, dtype=np.int64)
        for e, st in enumerate(p.staff):
            allowed[e, st.days_off, :] = False
            for shift_id, cap in st.max_shifts.items():
                caps[e, sid[shift_id]] = cap
            allowed[e, :, caps[e] == 0] = False
            ok = [s for s in range(n_s) if caps[e, s] > 0]
            choices[e, 1:1 + len(ok)] = ok
            n_choices[e] = 1 + len(ok)
        self.allowed, self.caps, self.choices, self.n_choices = allowed, caps, choices, n_choices
        most = int(self.length.max()) * n_d
        self.tmin = np.array([st.min_total_minutes for st in p.staff], dtype=np.int64)
        self.tmax = np.array([most if st.max_total_minutes is None else st.max_total_minutes
                              for st in p.staff], dtype=np.int64)
        self.maxc = np.array([st.max_consecutive_shifts or n_d for st in p.staff], np.int64)
        self.minc = np.array([st.min_consecutive_shifts for st in p.staff], dtype=np.int64)
        self.minoff = np.array([st.min_consecutive_days_off for st in p.staff], np.int64)
        self.maxw = np.array([-1 if st.max_weekends is None else st.max_weekends
                              for st in p.staff], dtype=np.int64)
        self.weekend = weekend_index(p)
        self.wfirst = whole_weekends(p)
        on_weekends = [r.weight_under for r in p.cover if self.weekend[r.day] >= 0]
        self.split_unit = float(np.mean(on_weekends)) if on_weekends else 0.0

    def reset(self, roster: Assignments) -> None:
        """Start again from ``roster`` (which the checker must accept)."""
        report = check_roster(self.problem, roster)
        if not report.feasible:
            raise ValueError("the annealer starts from a valid roster")
        sid = {s: i for i, s in enumerate(self.shift_ids)}
        x = np.array([[OFF if v is None else sid[v] for v in roster[e]]
                      for e in self.staff_ids], dtype=np.int64)
        self.x, self.best = x, x.copy()
        self.cnt = np.zeros(len(self.problem.cover), dtype=np.int64)
        for e in range(x.shape[0]):
            for d in range(x.shape[1]):
                if x[e, d] >= 0:
                    k = d * len(self.shift_ids) + x[e, d]
                    for r in self.rows[self.row_ptr[k]:self.row_ptr[k + 1]]:
                        self.cnt[r] += self.qual[e, r]
        self.h = np.array([self.violation(e) for e in range(x.shape[0])], dtype=np.int64)
        self.tally = self._tally(x)
        self.state = np.array([report.objective, 0.0, report.objective, 0.0])

    def _tally(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per member: shifts of each type, minutes, days worked in each weekend, weekends."""
        n_e, n_s = x.shape[0], len(self.shift_ids)
        scnt = np.zeros((n_e, n_s), dtype=np.int64)
        wkc = np.zeros((n_e, int(self.weekend.max()) + 1), np.int64)  # (0 weekends: -1 + 1)
        for e, d in zip(*np.nonzero(x >= 0), strict=True):
            scnt[e, x[e, d]] += 1
            if self.weekend[d] >= 0:
                wkc[e, self.weekend[d]] += 1
        return scnt, scnt @ self.length, wkc, (wkc > 0).sum(axis=1).astype(np.int64)

    def violation(self, e: int, row: np.ndarray | None = None) -> int:
        """Member ``e``'s violation in the current roster (or in ``row``)."""
        return int(self.rules(
            self.x[e] if row is None else row, self.allowed[e], self.forbid, self.length,
            self.unit, self.tmin[e], self.tmax[e], self.maxc[e], self.minc[e], self.minoff[e],
            self.weekend, self.maxw[e], self.caps[e], np.zeros(len(self.length), np.int64)))

    def run(self, moves: int, t_start: float, t_end: float, weight: float, seed: int) -> int:
        """``moves`` annealing moves; returns how often the best valid roster improved."""
        return int(self.kernel(
            self.x, self.cnt, self.h, self.tally, self.state, self.best, int(moves), float(t_start),
            float(t_end), float(weight), int(seed), self.mix, self.cellcost, self.row_ptr,
            self.rows, self.qual, self.req, self.wu, self.wo, self.row_day, self.row_shift,
            self.choices, self.n_choices,
            self.allowed, self.forbid, self.length, self.unit, self.tmin, self.tmax, self.maxc,
            self.minc, self.minoff, self.weekend, self.maxw, self.caps, self.rq_e, self.rq_d,
            self.rq_s, self.wfirst, self.split * self.split_unit, self.quick))

    @property
    def objective(self) -> float:
        """The current roster's objective (violations not counted)."""
        return float(self.state[0])

    @property
    def violations(self) -> int:
        return int(self.state[1])

    @property
    def unscored(self) -> int:
        """Moves undone on their objective change alone, without scoring their rules."""
        return int(self.state[3])

    @property
    def best_objective(self) -> int:
        return int(round(self.state[2]))

    def roster(self, x: np.ndarray | None = None) -> Assignments:
        """The current roster (or ``x``) as assignments."""
        x = self.x if x is None else x
        return {e: [None if v < 0 else self.shift_ids[v] for v in x[i]]
                for i, e in enumerate(self.staff_ids)}

    def best_roster(self) -> Assignments:
        return self.roster(self.best)
