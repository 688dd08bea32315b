"""The primal side of a solve: the construction's first roster, then the LNS thread's plan
(column generation, the exact search's restarts below the incumbent, the restricted master IP,
the LNS), and the second LNS that takes the exact search's core when its bound stalls (or from
the start when the plan has no exact search). Every switch and budget comes from the
:class:`~actors.solve.plan.Plan`."""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING

from actors.solve.constraints import build_model
from actors.solve.fixing import apply_fixing
from actors.solve.hints import add_hints
from actors.solve.lns import LnsWorker
from actors.solve.lp_start import lp_anneal_phase
from actors.solve.plan import Plan
from actors.solve.sa_phase import anneal_phase
from actors.solve.schema import Assignments, SolveOptions

if TYPE_CHECKING:
    from actors.solve.dive import Phase
    from actors.solve.search import Search

log = logging.getLogger(__name__)


def lns_worker(search: Search, plan: Plan, seed: int) -> LnsWorker:
    """An LNS worker on its own light copy of the model (``plan.lns_flags``)."""
    light = build_model(search.problem, plan.lns_flags)
    worker = LnsWorker(light, search.inc, seed, search.started,
                       lambda m, roster: add_hints(light, roster, m))
    worker.sub_limit_s, worker.lp_limit_s = plan.sub_limit_s, plan.lp_limit_s
    worker.finish_group = plan.dive_finish_group
    if plan.lns_compact:
        worker.set_compact()
        worker.merge, worker.sideways = plan.lns_merge, plan.lns_sideways
        worker.explore, worker.draw = plan.lns_explore, plan.lns_draw
        if plan.lns_chains:
            worker.set_chains(plan.sweep_beams)
        if plan.lns_weekends:
            worker.add_kind("weekends")
    return worker


def construct_first(search: Search, plan: Plan, options: SolveOptions, deadline: float) -> None:
    """The construction (greedy schedules by the deadline, then best-response sweeps until
    ``plan.construct_share`` of the time limit; with ``plan.construct_adopt`` each sweep
    starts from the incumbent when another phase has a better one): every roster it improves
    to is offered to the incumbent; a member without any valid schedule stops the solve as
    infeasible."""
    from actors.solve.construct import construct

    if not plan.construct or search.inc.roster is not None or search.finished():
        return
    until = search.started + plan.construct_share * options.time_limit_s

    def adopt(objective: int) -> Assignments | None:  # the incumbent, when it is better
        with search.inc.lock:
            roster, best = search.inc.roster, search.inc.objective
        return roster if best is not None and best < objective else None

    built = construct(
        search.problem, deadline, sweep_until=until, seed=options.seed,
        first_beams=plan.first_beams,
        sweep_beams=plan.sweep_beams, type_limit=plan.type_limit, kicks=plan.kicks,
        on_roster=lambda r, obj: search.inc.offer(search.problem, r, None, "construct",
                                                  search.elapsed()),
        adopt=adopt if plan.construct_adopt and not plan.colgen else None, halt=search.finished)
    log.debug("construction: %s in %.1f s (%d sweeps)", built.objective, built.seconds,
              built.sweeps)
    if built.infeasible:
        search.infeasible = built.infeasible
        search.stop_all()


def primal(search: Search, plan: Plan, options: SolveOptions, deadline: float,
           with_lns: bool) -> None:
    """The primal thread: the construction, then (``with_lns``) annealing where both threads
    anneal, or column generation and annealing from its LP's rounding (``plan.lp_anneal``,
    off by default), a first CP-SAT roster if the construction found none, column generation
    (``plan.colgen``) — the root LP's bound, dives for rosters, reduced costs to guide the
    LNS — then the LNS, which stops once
    (``plan.master``, at ``plan.master_at`` of the time limit) for the restricted master IP
    over the columns found by then. Each time the incumbent has improved, the exact search
    and the LNS are restricted below it."""
    construct_first(search, plan, options, deadline)
    if not with_lns or search.finished():
        return
    if plan.anneals and plan.anneal_threads >= 2:
        anneal_phase(search, plan, options.seed,
                     search.started + plan.anneal_end * options.time_limit_s)
    elif plan.anneals and plan.lp_anneal > 0 and not plan.colgen:
        lp_anneal_phase(search, plan, options.seed + 2, options.time_limit_s)
    lns = lns_worker(search, plan, options.seed)
    search.stoppers.append(lns.stop)
    if search.finished():
        return
    if search.inc.roster is None:
        lns.first(deadline, plan.first_limit_s)
    if plan.colgen and not search.finished():
        _colgen(search, lns, plan, options, deadline)
    lns.run(deadline)


def _colgen(search: Search, lns: LnsWorker, plan: Plan, options: SolveOptions,
            deadline: float) -> None:
    from actors.solve.colgen import MasterLpFailed
    from actors.solve.dive import Phase, colgen_phase

    limit, started = options.time_limit_s, search.started
    phase = Phase()
    try:
        phase = colgen_phase(
            lns.rm, search.inc, started, min(deadline, started + plan.dive_end * limit),
            deadline, halt=lambda: search.finished() or lns.halt.is_set(),
            on_bound=search.on_bound, seed=options.seed, dive_batch_per=plan.dive_batch_per,
            chunk=plan.colgen_chunk, root_until=min(deadline, started + plan.root_end * limit),
            finish=lns.complete if plan.dive_finish > 0 or plan.dive_finish_reserve > 0
            else None,  # (dive_finish -1: undecided, taken as 0)
            finish_share=max(0.0, plan.dive_finish),
            finish_reserve=plan.dive_finish_reserve * limit)
    except MasterLpFailed as exc:  # the bound and rosters found so far stay
        log.warning("column generation stopped: %s", exc)
    else:
        if phase.guide is not None:
            search.guide = phase.guide
            lns.set_guide(phase.guide)
        if phase.repair is not None and plan.lp_repair:
            lns.set_repair(phase.repair)  # this thread's own pool: not for the second LNS
    _restrict_below(search, lns, phase, plan, deadline)
    if plan.master and phase.master is not None:
        lns.run(min(deadline, started + plan.master_at * limit))
        _restrict_below(search, lns, phase, plan, deadline)
        _master(search, lns, phase, plan, min(deadline, started + plan.master_end * limit))
        _restrict_below(search, lns, phase, plan, deadline)


def _restrict_below(search: Search, lns: LnsWorker, phase: Phase, plan: Plan,
                    deadline: float) -> None:
    """Once the colgen phase is over, and again when the incumbent has improved: the exact
    search restarts below the incumbent (``restart``), and the LNS's model drops the same
    cells and gets the same cuts and cutoff (``lns_cuts``)."""
    obj = search.inc.objective
    lns_cap = math.inf if lns.rm.cutoff is None else lns.rm.cutoff + 1
    if obj is None or search.finished() or (obj >= search.cap and obj >= lns_cap):
        return
    now = time.monotonic()  # the fixing may take a share of the time left, not all of it
    until = now + plan.fixing_share * (deadline - now)
    fixing = (phase.fixing(obj - 1, until) if plan.fixing and phase.fixing is not None
              else None)
    if plan.restart:
        search.restart_exact(fixing)
    if plan.lns_cuts and fixing is not None and obj < lns_cap:
        apply_fixing(lns.rm, fixing)
        log.debug("LNS model restricted below %d: %d cells fixed", obj, len(fixing.banned))


def _master(search: Search, lns: LnsWorker, phase: Phase, plan: Plan, until: float) -> None:
    """The restricted master IP over the columns known by now, below the incumbent."""
    obj = search.inc.objective
    if obj is None or search.finished() or lns.halt.is_set() or until - time.monotonic() < 1:
        return
    if obj - phase.bound > plan.master_gap * abs(phase.bound):
        log.debug("master IP skipped: %d is more than %.1f %% above the LP", obj,
                  100 * plan.master_gap)
        return
    with search.inc.lock:
        roster = search.inc.roster
    found = phase.master(obj - 1, roster, until, search.stoppers.append, search.finished)
    if found is not None and not search.finished():
        search.inc.offer(lns.rm, found[0], None, "master", search.elapsed())


def second_lns(search: Search, plan: Plan, seed: int, deadline: float) -> None:
    """A second LNS (guided by the column-generation LP when that has finished its root) to
    the deadline: on the exact search's core once its bound stalls, or from the start when
    the plan has no exact search."""
    if search.finished():
        return
    second = lns_worker(search, plan, seed)
    search.stoppers.append(second.stop)
    if search.guide is not None:
        second.set_guide(search.guide)
    while search.inc.roster is None and not search.finished() and time.monotonic() < deadline:
        time.sleep(0.1)  # the construction's roster first (no CP-SAT race on a long model)
    if not search.finished():
        second.run(deadline)
