"""A second start for annealing, from the column-generation LP (``plan.lp_anneal``).

Where one thread anneals and there is no exact search (Instance 13: 120 staff x 18 shift types,
where a full pricing round takes seconds and the root LP converges only after ~150 s of one
core), the other thread can run column generation with partial pricing from the incumbent for
part of the time limit, take each member's heaviest schedule in the last master LP (a valid
roster: every column is a schedule its member may work; its cover is left to the walk) and
anneal from that, then run its LNS as before. The LP's members keep their runs of asked-for
shifts and their weekends where the cover needs them: on Instance 13, 60 s of annealing alone
from the rounding of a 45 s LP ends 150-400 lower than from the members' own requests. In
full solves at 120 s it did not pay (the LP's core time and the LNS it displaces cost as
much), nor at 240 s over sixteen pairs, so no plan sets it (docs/benchmarks.md, thirty-first
and thirty-second passes).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from actors.solve.plan import PARTIAL_CHUNK, Plan
from actors.solve.sa_phase import anneal_phase

if TYPE_CHECKING:
    from collections.abc import Callable

    from actors.solve.colgen import CgState, LpSolution
    from actors.solve.schema import Assignments, RosterProblem
    from actors.solve.search import Search

log = logging.getLogger(__name__)


def rounded(problem: RosterProblem, sol: LpSolution, fallback: Assignments) -> Assignments:
    """Each member on their heaviest schedule in ``sol`` (their schedule in ``fallback``
    where the LP gives them none): valid for every member's rules, whatever its cover."""
    from actors.solve.colgen import columns_of, roster_of_columns

    cols = columns_of(problem, fallback)
    for e, chosen in enumerate(sol.chosen):
        if chosen:
            cols[e] = max(chosen, key=chosen.__getitem__)
    return roster_of_columns(problem, cols)


def lp_rounding(problem: RosterProblem, roster: Assignments, until: float,
                halt: Callable[[], bool] = lambda: False,
                ) -> tuple[Assignments | None, CgState]:
    """Column generation (partial pricing) from ``roster`` until ``until`` or ``halt()``, and
    its last LP rounded (None when no master LP was solved by then), with the generation's
    state. A failing master LP raises :class:`~actors.solve.colgen.MasterLpFailed`."""
    from actors.solve.colgen import CgState, ColumnPool, generate, make_pricers

    pool = ColumnPool(problem)
    pool.add_roster(roster)
    state = generate(pool, make_pricers(problem), until, CgState(), halt=halt,
                     chunk=PARTIAL_CHUNK)
    if state.solution is None:
        return None, state
    return rounded(problem, state.solution, roster), state


def lp_anneal_phase(search: Search, plan: Plan, seed: int, time_limit_s: float) -> None:
    """Column generation until ``plan.lp_anneal`` of the time limit, then annealing from its
    rounding until ``plan.lp_anneal_end``; nothing when the search has ended, when there is
    no incumbent (the construction, which runs before this on the same thread, found none:
    the LNS's CP-SAT first roster comes next, without waiting) or when the LP gave no
    roster."""
    from actors.solve.colgen import MasterLpFailed

    with search.inc.lock:
        roster = search.inc.roster
    if search.finished() or roster is None:
        return
    try:
        start, state = lp_rounding(search.problem, roster,
                                   search.started + plan.lp_anneal * time_limit_s,
                                   search.finished)
    except MasterLpFailed as exc:
        log.warning("column generation for annealing's second start stopped: %s", exc)
        return
    log.debug("LP start: LP %.1f after %d solves (%d pricings) at %.1f s", state.lp,
              state.rounds, state.priced, search.elapsed())
    if start is not None and not search.finished():
        anneal_phase(search, plan, seed, search.started + plan.lp_anneal_end * time_limit_s,
                     from_roster=start, source="lp anneal")
