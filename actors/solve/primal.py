"""The primal side of a solve: the LNS thread's plan (first roster, column generation, the
exact search's restarts below the incumbent, the restricted master IP, the LNS) and the second
LNS that takes the exact search's core when its bound stalls."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from actors.solve.constraints import ModelFlags, build_model
from actors.solve.fixing import apply_fixing
from actors.solve.hints import add_hints
from actors.solve.lns import LnsWorker
from actors.solve.schema import RosterProblem, SolveOptions

if TYPE_CHECKING:
    from actors.solve.dive import Phase
    from actors.solve.model import _Search as Search

log = logging.getLogger(__name__)
DIVE_END = 0.85  # the dive must end by this share of the time limit (else it is dropped)
MASTER_AT, MASTER_END = 0.3, 0.8  # the restricted master IP runs between these shares
MASTER_GAP = 0.005  # ... when the incumbent is within this share above the root LP (else the
# LNS goes on: on Instance 8 at 1404 it found nothing and cost the LNS 30 s, 1404 vs 1312)


def lns_worker(problem: RosterProblem, flags: ModelFlags, search: Search, seed: int,
               started: float) -> LnsWorker:
    """An LNS worker on its own light copy of the model (no flow, no window cuts)."""
    light = build_model(problem, replace(flags, flow=flags.lns_flow, windows=flags.lns_flow))
    return LnsWorker(light, search.inc, seed, started,
                     lambda m, roster: add_hints(light, roster, m))


def primal(search: Search, lns: LnsWorker, flags: ModelFlags, options: SolveOptions,
           deadline: float) -> None:
    """The first LNS thread: a first roster, then (``flags.colgen``) column generation — the
    root LP's bound, dives for rosters, reduced costs to guide the LNS — then the LNS, which
    stops once (``flags.master``, at ``MASTER_AT`` of the time limit) for the restricted
    master IP over the columns found by then. Each time the incumbent has improved, the
    exact search and the LNS are restricted below it."""
    if search.inc.roster is None:
        lns.first(deadline)
    if flags.colgen and not search.finished():
        from actors.solve.colgen import MasterLpFailed
        from actors.solve.dive import Phase, colgen_phase

        limit = options.time_limit_s
        phase = Phase()
        try:
            phase = colgen_phase(
                lns.rm, search.inc, search.started,
                min(deadline, search.started + DIVE_END * limit), deadline,
                halt=lambda: search.finished() or lns.halt.is_set(),
                on_bound=search.on_bound, seed=options.seed)
        except MasterLpFailed as exc:  # the bound and rosters found so far stay
            log.warning("column generation stopped: %s", exc)
        else:
            if phase.guide is not None:
                search.guide = phase.guide
                lns.set_guide(phase.guide)
            if phase.repair is not None and flags.lp_repair:
                lns.set_repair(phase.repair)  # this thread's own pool: not for the second LNS
        _restrict_below(search, lns, phase, flags)
        if flags.master and phase.master is not None:
            limit, started = options.time_limit_s, search.started
            lns.run(min(deadline, started + MASTER_AT * limit))
            _restrict_below(search, lns, phase, flags)
            _master(search, lns, phase, min(deadline, started + MASTER_END * limit))
            _restrict_below(search, lns, phase, flags)
    lns.run(deadline)


def _restrict_below(search: Search, lns: LnsWorker, phase: Phase, flags: ModelFlags) -> None:
    """Once the colgen phase is over, and again when the incumbent has improved: the exact
    search restarts below the incumbent (``restart``), and the LNS's model drops the same
    cells and gets the same cuts and cutoff (``lns_cuts``)."""
    obj = search.inc.objective
    lns_cap = math.inf if lns.rm.cutoff is None else lns.rm.cutoff + 1
    if obj is None or search.finished() or (obj >= search.cap and obj >= lns_cap):
        return
    fixing = phase.fixing(obj - 1) if flags.fixing and phase.fixing is not None else None
    if flags.restart:
        search.restart_exact(fixing)
    if flags.lns_cuts and fixing is not None and obj < lns_cap:
        apply_fixing(lns.rm, fixing)
        log.debug("LNS model restricted below %d: %d cells fixed", obj, len(fixing.banned))


def _master(search: Search, lns: LnsWorker, phase: Phase, until: float) -> None:
    """The restricted master IP over the columns known by now, below the incumbent."""
    obj = search.inc.objective
    if obj is None or search.finished() or lns.halt.is_set() or until - time.monotonic() < 1:
        return
    if obj - phase.bound > MASTER_GAP * abs(phase.bound):
        log.debug("master IP skipped: %d is more than %.1f %% above the LP", obj,
                  100 * MASTER_GAP)
        return
    with search.inc.lock:
        roster = search.inc.roster
    found = phase.master(obj - 1, roster, until, search.stoppers.append, search.finished)
    if found is not None and not search.finished():
        search.inc.offer(lns.rm, found[0], None, "master", search.elapsed())


def after_handover(problem: RosterProblem, flags: ModelFlags, search: Search, seed: int,
                   started: float, deadline: float) -> None:
    """The exact search handed its core over: a second LNS (guided by the column-generation
    LP when that has finished its root) runs to the deadline."""
    second = lns_worker(problem, flags, search, seed, started)
    search.stoppers.append(second.stop)
    if search.guide is not None:
        second.set_guide(search.guide)
    if not search.finished():
        second.run(deadline)
