"""An LNS neighbourhood that trades weekends between members (``Plan.lns_weekends``).

Where the members' maximum weekends add up to about what the cover needs (Instance 13: 119 of
120 members at their most weekends, the shortfall on weekend days), a roster improves only when
one member gives up a weekend and another takes it: the ``days`` and ``pair`` kinds free every
member over a few days, too many to solve and rarely two whole weekends. This kind picks two
weekends — the first by its cover penalty, the second at random — and frees, over both
(Friday to Monday, wider as the kind's size grows), members who work exactly one of the
two (they can swap) and others at random, half the staff in all (as ``halves``, the kind that
gains most once the LNS slows down there); so the sub-model holds the trades.
"""

from __future__ import annotations

import random

from actors.solve.schema import Assignments, RosterProblem

Cells = set[tuple[int, int]]
MEMBERS = 0.5  # the share of the staff freed (as the halves kind)
SWAP_SHARE = 0.75  # ... most of them working exactly one of the two weekends


def weekend_cells(problem: RosterProblem, weekends: list[list[int]], rng: random.Random,
                  size: float, roster: Assignments, penalty: list[int]) -> Cells:
    """Cells to free: two weekends (by ``penalty`` per day, then at random) with flanks of
    ``size`` x days / 4 (at least one day) each side, for half the staff, most of them
    working exactly one of the two."""
    if len(weekends) < 2:
        return set()
    days, n_staff = problem.horizon.days, len(problem.staff)
    weights = [sum(penalty[d] for d in w) + 1 for w in weekends]
    first = rng.choices(range(len(weekends)), weights=weights)[0]
    second = rng.choice([i for i in range(len(weekends)) if i != first])
    flank = max(1, round(size * days / 4))
    chosen: set[int] = set()
    for w in (weekends[first], weekends[second]):
        chosen.update(d for d in range(min(w) - flank, max(w) + flank + 1) if 0 <= d < days)
    k = max(2, round(MEMBERS * n_staff))

    def works(e: int, w: list[int]) -> bool:
        return any(roster[problem.staff[e].id][d] is not None for d in w)

    swap = [e for e in range(n_staff)
            if works(e, weekends[first]) != works(e, weekends[second])]
    members = set(rng.sample(swap, min(len(swap), round(SWAP_SHARE * k))))
    rest = [e for e in range(n_staff) if e not in members]
    members.update(rng.sample(rest, min(len(rest), k - len(members))))
    return {(e, d) for e in members for d in chosen}
