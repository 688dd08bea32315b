"""The annealing phase: simulated annealing (:mod:`actors.solve.anneal`) on one thread, its
best valid rosters offered to the shared incumbent after every batch of moves.

Temperatures fall geometrically with the share of the phase's time spent (``plan.anneal_t0``
to ``plan.anneal_t1``): each batch is a fixed number of moves (``plan.anneal_batch``) whose
end temperature is where the previous batch's duration says the clock will be, so the
schedule follows the clock while every batch is bounded work.
"""

from __future__ import annotations

import logging
import time

from actors.solve.plan import Plan
from actors.solve.search import Search

log = logging.getLogger(__name__)


def temperature(plan: Plan, share: float) -> float:
    """The temperature after ``share`` (0..1) of the phase."""
    share = min(1.0, max(0.0, share))
    return plan.anneal_t0 * (plan.anneal_t1 / plan.anneal_t0) ** share


def anneal_phase(search: Search, plan: Plan, seed: int, until: float) -> None:
    """Anneal from the incumbent (the construction's first roster) until ``until``."""
    from actors.solve.anneal import Annealer

    while search.inc.roster is None and not search.finished() and time.monotonic() < until:
        time.sleep(0.05)
    with search.inc.lock:
        roster = search.inc.roster
    if roster is None or search.finished():
        return
    ann = Annealer(search.problem, roster, plan)
    start = time.monotonic()
    span, last, batches = max(1e-3, until - start), 0.0, 0
    while not search.finished() and (now := time.monotonic()) < until:
        share = (now - start) / span
        ann.run(plan.anneal_batch, temperature(plan, share),
                temperature(plan, share + last / span), plan.anneal_weight,
                seed * 100_003 + batches)
        last, batches = time.monotonic() - now, batches + 1
        best = search.inc.objective
        if best is None or ann.best_objective < best:
            search.inc.offer(search.problem, ann.best_roster(), None, "anneal", search.elapsed())
    log.debug("annealing: %d batches, best %d, current %s (violations %d)", batches,
              ann.best_objective, ann.objective, ann.violations)
