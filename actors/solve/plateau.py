"""Sideways LNS moves (``Plan.lns_sideways``): a sub-solve may return a different roster of the
same objective, which the LNS thread then goes on from.

The compact LNS asks every sub-solve for a roster strictly better than the incumbent; on
Instance 13 most steps after the first minute end without one (the roster is a local optimum
for every neighbourhood drawn), and the LNS stalls on a plateau: the cover short on weekends
and the members' spare minutes spread thinly over many of them. A sideways step requires the
free cells to change (:func:`must_differ`) and accepts the same objective, so the thread walks
the plateau, where later steps may find the improvement; the shared incumbent still takes only
strictly better rosters, and the thread drops its own roster once the incumbent improves.
"""

from __future__ import annotations

from actors.solve.submodel import SubModel


def must_differ(sub: SubModel, table: list[list[int]]) -> bool:
    """Require at least one of ``sub``'s cells to differ from ``table`` (its current roster);
    False when the model has no cell variable."""
    terms = []
    for (e, d, s), var in sub.x.items():
        terms.append(var if table[e][d] != s else 1 - var)
    if not terms:
        return False
    sub.model.add(sum(terms) >= 1)
    return True
