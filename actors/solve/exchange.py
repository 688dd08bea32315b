"""Ejection chains over best responses: moves that trade shifts between members.

The construction's sweeps (:mod:`actors.solve.construct`) stop at a roster no single member
can improve by re-planning alone; the compact LNS re-solves windows of days. Neither moves a
cover shortfall that needs members to trade: on Instance 13 almost every member works their
most weekends and nearly their most minutes, so a member who takes a short row must give up
another, which someone else must then take. A chain does that with the same exact marginal
costs as the sweeps (:class:`actors.solve.construct._Cover`): member B is *forced* onto a short
row (their cheapest schedule through that cell, by the DP of :mod:`actors.solve.pricing`);
a row B left becomes short; member A there re-plans freely (their best response) or is forced
onto that row in turn, up to ``depth`` links. Each link's change is exact given the links
before it, so the chain's total is the roster's change; the first chain whose total is
negative is kept, every other link is undone.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import numpy as np

from actors.solve.construct import WEEKEND_BIAS, Column, _cost, _Cover
from actors.solve.schema import Assignments, RosterProblem

DEPTH = 3  # links in a chain, at most
BRANCH = 3  # members tried at each link
MAX_CALLS = 40  # DP calls in one step, at most (the step's work bound)


class Exchange:
    """Ejection chains on one member's view of the roster: ``step`` improves a roster or
    leaves it as it was."""

    def __init__(self, problem: RosterProblem, beams: tuple[int, ...] = (4,),
                 depth: int = DEPTH, branch: int = BRANCH, max_calls: int = MAX_CALLS) -> None:
        from actors.solve.colgen import make_pricers
        from actors.solve.pricing import DpPricer

        self.problem = problem
        self.pricers = make_pricers(problem)
        self.supported = all(isinstance(p, DpPricer) for p in self.pricers)
        self.beams, self.depth, self.branch, self.max_calls = beams, depth, branch, max_calls
        self.cover = _Cover(problem)
        self.hid = {s.id: i for i, s in enumerate(problem.shifts)}
        self.rows_at: dict[tuple[int, int], list[int]] = {}  # (day, shift): cover rows
        for r, cell in enumerate(self.cover.cell):
            self.rows_at.setdefault(cell, []).append(r)
        self.row_sets = [set(rows.tolist()) for rows in self.cover.rows]
        self.cols: list[Column] = []
        self.calls = 0
        self.until = 0.0
        self.halt: Callable[[], bool] = lambda: False

    def load(self, roster: Assignments) -> None:
        p, hid = self.problem, self.hid
        self.cols = [tuple(-1 if v is None else hid[v] for v in roster[st.id])
                     for st in p.staff]
        self.cover.count[:] = 0
        for e, col in enumerate(self.cols):
            self.cover.move(e, col, 1)

    def roster(self) -> Assignments:
        shifts = self.problem.shifts
        return {st.id: [None if s < 0 else shifts[s].id for s in col]
                for st, col in zip(self.problem.staff, self.cols, strict=True)}

    def objective(self) -> float:
        return self.cover.penalty(self.cols)

    def step(self, roster: Assignments, rng: random.Random, until: float = float("inf"),
             halt: Callable[[], bool] = lambda: False) -> float:
        """One chain from a short cover row of ``roster``: the change of the objective (< 0:
        :meth:`roster` is the better roster; 0: nothing kept). Bounded by ``max_calls`` DP
        calls and ``until``."""
        self.load(roster)
        self.calls, self.until, self.halt = 0, until, halt
        cover = self.cover
        short = np.flatnonzero(cover.count < cover.req)
        if not len(short):
            return 0.0
        weights = (cover.req[short] - cover.count[short]) * cover.under[short]
        r = int(rng.choices(short.tolist(), weights=weights.tolist())[0])
        for b in self._takers(r, rng, exclude=()):
            delta = self._push(b, r, self.depth, 0.0, rng, chain=(b,))
            if delta is not None:
                return delta
            if self._spent():
                break
        return 0.0

    def _spent(self) -> bool:
        return self.calls >= self.max_calls or time.monotonic() >= self.until or self.halt()

    def _takers(self, r: int, rng: random.Random, exclude: tuple[int, ...]) -> list[int]:
        """Up to ``branch`` members who count in row ``r``, may work its cell and do not:
        those who need no further weekend for it first (weekends bind on Instance 13: a member
        working one day of a weekend can take the other), then those with the most minutes to
        spare (a chain ends with someone who can take more work), ties at random."""
        d, s = self.cover.cell[r]
        out = []
        for e in range(len(self.cols)):
            rules = self.pricers[e].rules  # type: ignore[attr-defined]
            col = self.cols[e]
            if e in exclude or col[d] == s or not rules.allowed[d, s] or r not in self.row_sets[e]:
                continue
            spare = rules.tmax - sum(int(rules.units[v]) for v in col if v >= 0)
            out.append((self._new_weekend(rules, col, d), -spare, rng.random(), e))
        return [e for *_, e in sorted(out)[:self.branch]]

    @staticmethod
    def _new_weekend(rules: object, col: Column, d: int) -> bool:
        """Working day ``d`` would take one more weekend than the member's most."""
        weekend, maxw = rules.weekend, rules.maxw  # type: ignore[attr-defined]
        k = weekend[d]
        if k < 0 or maxw < 0 or col[d] >= 0:
            return False
        worked = {weekend[i] for i, v in enumerate(col) if v >= 0 and weekend[i] >= 0}
        return k not in worked and len(worked) >= maxw

    def _price(self, e: int, w: np.ndarray, cell: tuple[int, int] | None) -> Column | None:
        """Member ``e``'s cheapest schedule under ``w`` (through ``cell`` when given)."""
        pricer = self.pricers[e]
        rules = pricer.rules  # type: ignore[attr-defined]
        allowed, allow_off = None, None
        if cell is not None:
            d, s = cell
            allowed = rules.allowed.copy()
            allowed[d, :] = False
            allowed[d, s] = True
            allow_off = np.ones(rules.allowed.shape[0], dtype=np.bool_)
            allow_off[d] = False
        for weights in (w, w + WEEKEND_BIAS * rules.weekend_cells):
            for beam in self.beams:
                self.calls += 1
                cols, _, _ = pricer.price_matrix(weights, 1, allowed=allowed,  # type: ignore[attr-defined]
                                                 allow_off=allow_off, beam=beam)
                if cols:
                    return cols[0]
        return None

    def _replace(self, e: int, cell: tuple[int, int] | None) -> tuple[Column, float] | None:
        """Re-plan member ``e`` (through ``cell``); their old column and the change, or None
        (nothing found: unchanged)."""
        old = self.cols[e]
        self.cover.move(e, old, -1)
        w = self.cover.weights(e)
        new = self._price(e, w, cell)
        if new is None or new == old:
            self.cover.move(e, old, 1)
            return None
        self.cols[e] = new
        self.cover.move(e, new, 1)
        return old, _cost(w, new) - _cost(w, old)

    def _undo(self, e: int, old: Column) -> None:
        self.cover.move(e, self.cols[e], -1)
        self.cols[e] = old
        self.cover.move(e, old, 1)

    def _left(self, old: Column, new: Column) -> list[int]:
        """Rows short now on cells the member worked in ``old`` and not in ``new``."""
        cover, out = self.cover, []
        for d, (a, b) in enumerate(zip(old, new, strict=True)):
            if a >= 0 and a != b:
                out += [r for r in self.rows_at.get((d, a), ())
                        if cover.count[r] < cover.req[r]]
        return out

    def _push(self, e: int, r: int, depth: int, acc: float, rng: random.Random,
              chain: tuple[int, ...]) -> float | None:
        """Force member ``e`` onto row ``r``'s cell; then, while the total is not negative,
        a member on a row ``e`` left re-plans freely or is pushed in turn. The total change
        of a kept chain, or None (every link undone)."""
        if self._spent():
            return None
        done = self._replace(e, self.cover.cell[r])
        if done is None:
            return None
        old, change = done
        total = acc + change
        if total < -1e-9:
            return total
        left = self._left(old, self.cols[e])
        if depth > 1 and left:
            r2 = rng.choice(left)
            for a in self._takers(r2, rng, exclude=chain):
                if self._spent():
                    break
                free = self._replace(a, None)
                if free is not None:
                    if total + free[1] < -1e-9:
                        return total + free[1]
                    self._undo(a, free[0])
                kept = self._push(a, r2, depth - 1, total, rng, chain + (a,))
                if kept is not None:
                    return kept
        self._undo(e, old)
        return None
