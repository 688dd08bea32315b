"""How the compact LNS draws its next neighbourhood kind when ``Plan.lns_draw`` is ``"work"``.

The default draw (``"rate"``, in :meth:`actors.solve.lns.LnsWorker._arm`) takes a kind at
random a quarter of the time, else in proportion to each kind's moving average of gain per
wall second, updated only when that kind is drawn. A kind that paid early keeps its average
while the others, drawn rarely and often without a gain, sit at zero: the draw locks onto it
(on Instance 20 the worst runs of every A/B arm locked onto ``days``; docs/benchmarks.md,
fourth pass).

The ``"work"`` draw credits each kind with its gain per unit of CP-SAT deterministic work (the
same on a loaded machine), and forgets: after every step each kind's summed gain and work are
multiplied by :data:`DECAY`, so a kind that stopped paying loses its share within a few
steps. Each kind's record is shrunk towards the thread's rate over all its steps so far (not
discounted) by :data:`PRIOR_WORK` of pseudo-work, so a kind not drawn for a while drifts back
to that rate, and when no kind pays any more (the gains of an LNS fall as it goes) the draw
returns to uniform. Each kind keeps at least :data:`FLOOR` of the draw.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

DECAY = 0.9  # per step, every kind's discounted gain and work (memory ~10 steps)
FLOOR = 0.08  # every kind's least share of the draw
PRIOR_WORK = 1.0  # pseudo-work (deterministic seconds, half a sub-solve) at the pooled rate


@dataclass
class Tally:
    """A kind's discounted gain and deterministic work."""

    gain: float = 0.0
    work: float = 0.0


def record(tallies: Sequence[Tally], drawn: Tally, total: Tally, gain: int, work: float,
           decay: float = DECAY) -> None:
    """Forget a little of every kind's record, then add this step's to the kind ``drawn``
    and to ``total`` (every step so far, not discounted)."""
    for tally in tallies:
        tally.gain *= decay
        tally.work *= decay
    for tally in (drawn, total):
        tally.gain += max(0, gain)
        tally.work += max(work, 1e-3)


def shares(tallies: Sequence[Tally], total: Tally, floor: float = FLOOR,
           prior: float = PRIOR_WORK) -> list[float]:
    """Each kind's chance of the next draw: ``floor`` each, the rest in proportion to its
    recent rate shrunk towards ``total``'s (uniform before any gain)."""
    n = len(tallies)
    floor = min(floor, 1.0 / n)
    pooled = total.gain / total.work if total.work else 0.0
    rates = [(t.gain + pooled * prior) / (t.work + prior) for t in tallies]
    if sum(rates) <= 0:
        return [1.0 / n] * n
    free = 1.0 - n * floor
    return [floor + free * r / sum(rates) for r in rates]


def draw(tallies: Sequence[Tally], total: Tally, rng: random.Random) -> int:
    """The index of the next kind."""
    return rng.choices(range(len(tallies)), weights=shares(tallies, total))[0]
