"""A first roster in seconds, without CP-SAT: greedy schedules, then best responses.

Every hard rule of the problem is a rule of one staff member; cover is soft. So a roster is
valid exactly when each member's schedule is, and a member's best schedule *given everyone
else's* is a pricing problem: the cost of working a cell is its request cost plus, per cover
row it counts in, ``-weight_under`` while the others leave that row short and ``+weight_over``
once they fill it. That change of the objective is exact, so the dynamic program of
:mod:`actors.solve.pricing` (or, where it is not supported, the CP-SAT pricer of
:mod:`actors.solve.colgen`) gives

1. a greedy roster: members one by one, each taking their best schedule against the cover left
   by those before;
2. best-response sweeps: each member in turn re-planned against everyone else, kept only when
   the objective strictly falls, until a sweep changes nothing (a local optimum for one-member
   moves) or the deadline.

On long horizons the exact DP is slow (its labels carry the minutes worked, the weekends and
the per-type counts), so the plan gives a ``beam``: the DP keeps that many labels per state,
which still yields only valid schedules. A member the beam finds nothing for is retried with a
wider beam and then exactly; a member without any valid schedule makes the problem infeasible
(the explanation is :mod:`actors.solve.explain`'s job).
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from actors.solve.schema import Assignments, RosterProblem

log = logging.getLogger(__name__)
Column = tuple[int, ...]
WEEKEND_BIAS = 200.0  # added per weekend cell when a beam found no schedule
MEMBER_LIMIT_S = 10.0  # CP-SAT on one member alone, when the DP beams found nothing


@dataclass
class Construction:
    """What :func:`construct` leaves: the roster (None: none within the deadline, or a member
    without a valid schedule — ``infeasible`` names them), and how it got there."""

    roster: Assignments | None = None
    objective: int | None = None
    sweeps: int = 0
    moves: int = 0
    infeasible: list[str] | None = None
    seconds: float = 0.0


class _Cover:
    """Per cover row: the requirement, the weights and how many counted members work it."""

    def __init__(self, problem: RosterProblem) -> None:
        hid = {s.id: i for i, s in enumerate(problem.shifts)}
        days, n_shifts = problem.horizon.days, len(problem.shifts)
        self.req = np.array([c.requirement for c in problem.cover], dtype=np.int64)
        self.under = np.array([c.weight_under for c in problem.cover], dtype=np.float64)
        self.over = np.array([c.weight_over for c in problem.cover], dtype=np.float64)
        self.count = np.zeros(len(problem.cover), dtype=np.int64)
        self.cell = [(c.day, hid[c.shift_id]) for c in problem.cover]
        # per member: the rows they count in, and each row's cell, as flat arrays
        self.rows: list[np.ndarray] = []
        self.flat: list[np.ndarray] = []
        for st in problem.staff:
            rows = np.array([r for r, c in enumerate(problem.cover)
                             if c.skill is None or c.skill in st.skills], dtype=np.int64)
            self.rows.append(rows)
            self.flat.append(np.array([self.cell[r][0] * n_shifts + self.cell[r][1]
                                       for r in rows], dtype=np.int64))
        self.base = np.zeros((len(problem.staff), days, n_shifts))  # request costs
        sid = {s.id: i for i, s in enumerate(problem.staff)}
        for q in problem.shift_on_requests:
            self.base[sid[q.staff_id], q.day, hid[q.shift_id]] -= q.weight
        for q in problem.shift_off_requests:
            self.base[sid[q.staff_id], q.day, hid[q.shift_id]] += q.weight
        self.on_total = np.zeros(len(problem.staff))  # what a member pays working no request
        for q in problem.shift_on_requests:
            self.on_total[sid[q.staff_id]] += q.weight

    def weights(self, e: int) -> np.ndarray:
        """Member ``e``'s cell weights against the current counts (``e`` not counted)."""
        w = self.base[e].copy()
        rows = self.rows[e]
        marginal = np.where(self.count[rows] < self.req[rows], -self.under[rows],
                            self.over[rows])
        np.add.at(w.reshape(-1), self.flat[e], marginal)
        return w

    def penalty(self, cols: list[Column]) -> float:
        """The roster's objective from the counts and each member's request costs."""
        short = np.maximum(0, self.req - self.count)
        extra = np.maximum(0, self.count - self.req)
        total = float(short @ self.under + extra @ self.over) + float(self.on_total.sum())
        return total + sum(_cost(self.base[e], col) for e, col in enumerate(cols))

    def move(self, e: int, col: Column | None, sign: int) -> None:
        """Count (``sign`` 1) or uncount (-1) member ``e`` working ``col``."""
        if col is None:
            return
        n_shifts = self.base.shape[2]
        worked = {d * n_shifts + s for d, s in enumerate(col) if s >= 0}
        hit = np.fromiter((f in worked for f in self.flat[e]), dtype=bool,
                          count=len(self.flat[e]))
        self.count[self.rows[e][hit]] += sign


def _cost(w: np.ndarray, col: Column) -> float:
    return float(sum(w[d, s] for d, s in enumerate(col) if s >= 0))


def _types(pricer: object, w: np.ndarray, limit: int, keep: Column | None) -> np.ndarray | None:
    """The member's allowed cells narrowed to the ``limit`` shift types worth most under
    ``w`` (plus those of ``keep``, their current schedule); None: no narrowing."""
    rules = pricer.rules  # type: ignore[attr-defined]
    allowed = rules.allowed
    usable = [s for s in range(allowed.shape[1]) if allowed[:, s].any()]
    if not limit or len(usable) <= limit:
        return None
    value = np.minimum(w, 0.0).sum(axis=0)
    chosen = {s for s in keep or () if s >= 0}
    reach = 0  # units the chosen types can reach: enough for the member's minimum, and more
    for s in sorted(usable, key=lambda s: value[s]):
        if len(chosen) >= limit and reach >= 1.2 * rules.tmin:
            break
        if s in chosen:
            continue
        chosen.add(s)
        k = rules.track[s]
        count = int(allowed[:, s].sum()) if k < 0 else int(rules.caps[k])
        reach += count * int(rules.units[s])
    if len(chosen) == len(usable):
        return None
    mask = np.zeros(allowed.shape[1], dtype=bool)
    mask[list(chosen)] = True
    return allowed & mask[None, :]


def _best(pricer: object, w: np.ndarray, beams: tuple[int, ...], seed: int,
          limit_s: float, type_limit: int = 0, keep: Column | None = None,
          below: float = math.inf) -> tuple[Column | None, bool]:
    """The member's best schedule under ``w`` (None: none found) and whether the search
    that found none was exact (so there is none). ``type_limit``: first try with only that
    many shift types (the DP's labels grow with them), then with all. ``below`` (a sweep:
    what the member's current schedule costs): only a cheaper schedule is sought, so the DP
    drops every partial schedule that cannot end below it; None then says only that none
    cheaper was found. It is sought where the unbounded search would have returned one: in
    the narrow types when there are (they hold ``keep``), without the weekend-biased retries
    (for a member the beams found nothing for at all)."""
    from actors.solve.pricing import DpPricer

    if isinstance(pricer, DpPricer):
        narrow = _types(pricer, w, type_limit, keep)
        bounded = below < math.inf
        # (bounded: ``keep``'s types are in ``narrow``, which so holds a valid schedule, and a
        # miss there means nothing cheaper, as before the bound)
        spans = [narrow] if bounded or narrow is None else [narrow, None]
        # A narrow beam keeps a state's cheapest labels, which may all have worked too many
        # weekends to finish: again with weekends made dearer, so cheaper means fewer of them.
        costs = [w] if bounded else [w, w + WEEKEND_BIAS * pricer.rules.weekend_cells]
        for allowed, weights in [(a, c) for a in spans for c in costs]:
            for beam in beams:
                cols, _, _ = pricer.price_matrix(weights, 1, allowed=allowed, beam=beam,
                                                 below=below)
                if cols:
                    return cols[0], False
                if beam == 0 and allowed is None:
                    return None, not bounded  # the exact DP: no valid (or cheaper) schedule
        return None, False
    weights = {(d, s): float(w[d, s]) for d, s in zip(*np.nonzero(w), strict=True)}
    cols, _, optimal = pricer.price(weights, limit_s, seed)  # type: ignore[attr-defined]
    return (min(cols, key=lambda c: _cost(w, c)) if cols else None), optimal and not cols


def _member_alone(problem: RosterProblem, e: int, limit_s: float,
                  seed: int) -> tuple[Column | None, bool]:
    """Any valid schedule for member ``e`` by CP-SAT on their rules alone (flow included: it
    decides tight members fast), and whether it proved there is none."""
    from ortools.sat.python import cp_model

    from actors.solve.constraints import ModelFlags, build_model

    if limit_s <= 0:
        return None, False
    single = problem.model_copy(update={"staff": [problem.staff[e]], "cover": [],
                                        "shift_on_requests": [], "shift_off_requests": []})
    rm = build_model(single, ModelFlags(symmetry=False, windows=False))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = limit_s
    solver.parameters.random_seed = seed
    solver.parameters.linearization_level = 2  # the flow's LP decides a tight member's minimum
    code = solver.solve(rm.model)
    if code == cp_model.INFEASIBLE:
        return None, True
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False
    return tuple(next((s for s in range(len(problem.shifts)) if solver.boolean_value(
        rm.x[0, d, s])), -1) for d in range(problem.horizon.days)), False


def construct(problem: RosterProblem, deadline: float, seed: int = 0,
              first_beams: tuple[int, ...] = (1, 4, 0), sweep_beams: tuple[int, ...] = (4,),
              max_sweeps: int = 50, pricers: list | None = None, type_limit: int = 0,
              sweep_until: float | None = None, kicks: bool = False,
              on_roster: Callable[[Assignments, int], None] | None = None,
              adopt: Callable[[int], Assignments | None] | None = None,
              halt: Callable[[], bool] = lambda: False) -> Construction:
    """A greedy roster (by ``deadline``), then best-response sweeps until no member
    improves, ``max_sweeps``, ``sweep_until`` (default: ``deadline``) or ``halt()``;
    ``on_roster`` gets the greedy roster and each sweep's better one (with its objective,
    recomputed by the checker). ``kicks``: once the sweeps have converged, ruin and recreate
    until ``sweep_until`` (:func:`_kick`). ``adopt(objective)``: a better roster found
    elsewhere (or None), which the next sweep then starts from."""
    from actors.solve.checker import check_roster
    from actors.solve.colgen import make_pricers, roster_of_columns

    started = time.monotonic()
    out = Construction()
    pricers = pricers if pricers is not None else make_pricers(problem)
    cover = _Cover(problem)
    rng = random.Random(seed)
    n = len(problem.staff)
    cols: list[Column | None] = [None] * n
    order = sorted(range(n), key=lambda e: -len(problem.staff[e].days_off))
    for e in order:  # the most constrained first
        if halt() or time.monotonic() >= deadline:
            return _finish(out, started)
        col, none = _best(pricers[e], cover.weights(e), first_beams, seed,
                          max(0.1, min(2.0, deadline - time.monotonic())), type_limit)
        if col is None and not none:  # the beams found nothing: CP-SAT on this member alone
            col, none = _member_alone(problem, e, min(MEMBER_LIMIT_S,
                                                      deadline - time.monotonic()), seed)
        if col is None:
            if none:
                out.infeasible = (out.infeasible or []) + [problem.staff[e].id]
                continue
            return _finish(out, started)
        cols[e] = col
        cover.move(e, col, 1)
    if out.infeasible:
        return _finish(out, started)

    def offer() -> None:
        roster = roster_of_columns(problem, cols)  # type: ignore[arg-type]
        report = check_roster(problem, roster)
        if report.feasible and (out.objective is None or report.objective < out.objective):
            out.roster, out.objective = roster, report.objective
            if on_roster is not None:
                on_roster(roster, report.objective)

    offer()
    deadline = deadline if sweep_until is None else min(deadline, sweep_until)
    for _ in range(max_sweeps):
        better = adopt(out.objective) if adopt is not None and out.objective is not None \
            else None
        if better is not None:
            cols = _adopt(problem, cover, better)
            out.roster, out.objective = better, check_roster(problem, better).objective
        changed = _sweep(cover, cols, pricers, rng, sweep_beams, seed + out.sweeps,
                         type_limit, deadline, halt)
        out.sweeps += 1
        out.moves += changed
        if changed:
            offer()
        if not changed or halt() or time.monotonic() >= deadline:
            break
    while kicks and not halt() and time.monotonic() < deadline:
        if _kick(cover, cols, pricers, rng, sweep_beams, type_limit, deadline, halt):
            out.moves += 1
            offer()
    return _finish(out, started)


def _sweep(cover: _Cover, cols: list, pricers: list, rng: random.Random,
           beams: tuple[int, ...], seed: int, type_limit: int, deadline: float,
           halt: Callable[[], bool]) -> int:
    """One best-response sweep, members in random order, each re-planned against everyone
    else and kept only when the objective strictly falls; how many changed."""
    changed = 0
    members = list(range(len(cols)))
    rng.shuffle(members)
    for e in members:
        if halt() or time.monotonic() >= deadline:
            break
        cover.move(e, cols[e], -1)
        w = cover.weights(e)
        now = _cost(w, cols[e])
        col, _ = _best(pricers[e], w, beams, seed,
                       max(0.1, min(1.0, deadline - time.monotonic())), type_limit, cols[e],
                       below=now - 1e-9)
        if col is not None and _cost(w, col) < now - 1e-9:
            cols[e] = col
            changed += 1
        cover.move(e, cols[e], 1)
    return changed


def best_responses(problem: RosterProblem, roster: Assignments, pricers: list,
                   beams: tuple[int, ...], type_limit: int, seed: int, deadline: float,
                   halt: Callable[[], bool] = lambda: False) -> Assignments | None:
    """One best-response sweep from ``roster`` (valid): a roster of lower objective, or None
    when no member's re-plan lowered it. Each member's new schedule is a valid one, so the
    roster stays valid; the objective falls by the sum of the kept re-plans' gains."""
    from actors.solve.colgen import roster_of_columns

    cover = _Cover(problem)
    cols = _adopt(problem, cover, roster)
    if not _sweep(cover, cols, pricers, random.Random(seed), beams, seed, type_limit,
                  deadline, halt):
        return None
    return roster_of_columns(problem, cols)


def repaired(problem: RosterProblem, roster: Assignments, members: list[int], pricers: list,
             beams: tuple[int, ...], type_limit: int, seed: int) -> Assignments | None:
    """``roster`` (its ``members`` breaking rules, everyone else valid) with each of those
    members re-planned by best response against everyone else: a roster whose every schedule
    is valid, or None when the beams found no schedule for one of them."""
    from actors.solve.colgen import roster_of_columns

    cover = _Cover(problem)
    cols = _adopt(problem, cover, roster)
    for e in members:
        cover.move(e, cols[e], -1)
        col, _ = _best(pricers[e], cover.weights(e), beams, seed, 1.0, type_limit)
        if col is None:
            return None
        cols[e] = col
        cover.move(e, col, 1)
    return roster_of_columns(problem, cols)


def _adopt(problem: RosterProblem, cover: _Cover, roster: Assignments) -> list[Column | None]:
    """``roster``'s columns, counted in ``cover`` instead of the ones before."""
    hid = {s.id: i for i, s in enumerate(problem.shifts)}
    cols: list[Column | None] = [tuple(-1 if v is None else hid[v] for v in roster[st.id])
                                 for st in problem.staff]
    cover.count[:] = 0
    for e, col in enumerate(cols):
        cover.move(e, col, 1)
    return cols


def _kick(cover: _Cover, cols: list, pricers: list, rng: random.Random,
          beams: tuple[int, ...], type_limit: int, deadline: float,
          halt: Callable[[], bool]) -> bool:
    """Ruin and recreate: take 5-20 % of the members out, put them back one by one in random
    order by best response, then re-plan each once more; keep the result when the objective
    is no worse (sideways moves cross plateaus), else undo. True when it fell."""
    n = len(cols)
    chosen = rng.sample(range(n), min(n, max(2, round(rng.uniform(0.05, 0.2) * n))))
    before = cover.penalty(cols)
    saved = {e: cols[e] for e in chosen}
    for e in chosen:
        cover.move(e, cols[e], -1)
    placed: set[int] = set()
    for e in chosen + chosen:
        if halt() or time.monotonic() >= deadline:
            break
        if e in placed:
            cover.move(e, cols[e], -1)
        col, _ = _best(pricers[e], cover.weights(e), beams, rng.randrange(1 << 30), 1.0,
                       type_limit, cols[e])
        if col is not None:
            cols[e] = col
        cover.move(e, cols[e], 1)
        placed.add(e)
    for e in chosen:
        if e not in placed:  # cut short: back as it was
            cover.move(e, cols[e], 1)
    after = cover.penalty(cols)
    if after <= before:
        return after < before
    for e in chosen:
        cover.move(e, cols[e], -1)
        cols[e] = saved[e]
        cover.move(e, cols[e], 1)
    return False


def _finish(out: Construction, started: float) -> Construction:
    out.seconds = time.monotonic() - started
    log.debug("construction: %s after %d sweeps (%d moves) in %.1f s", out.objective,
              out.sweeps, out.moves, out.seconds)
    return out
