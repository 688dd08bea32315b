"""The solve's plan: which phases run, with which switches and budgets, in one object.

:func:`make_plan` reads the problem's size (and the options) and decides, before anything is
built, what the solve will run; every phase reads its switches and budgets from the
:class:`Plan` it is handed, so a change of strategy is a change here (and ``bench/solve.py
--plan key=value`` tries one without editing code). The phases and their timeline are in
``docs/solver.md``.

Sizes are estimated, not measured: the exact model's extras (the per-member network flow and the
window cuts of :mod:`actors.solve.flow` / :mod:`actors.solve.windows`) are built in Python in
time and memory that grow with the horizon (the window cuts with its square and cube), so they
are planned only on horizons where they pay; the full CP-SAT search is planned only while the
estimated model fits the memory budget (CP-SAT with two workers holds several copies of it).
Whatever is left out is named in :attr:`Plan.notes`, which the result carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from actors.solve.constraints import ModelFlags
from actors.solve.schema import RosterProblem, SolveOptions

# Size thresholds (measured on the benchmark: see docs/solver.md, "Plan").
EXTRAS_MAX_DAYS = 84  # flow and window cuts only up to this horizon
EXACT_MAX_TERMS = 1_200_000  # the full CP-SAT search only below this many estimated terms
EXACT_MAX_DAYS = 84  # ... and on horizons up to this
BYTES_PER_TERM = 2_800  # peak process memory per estimated term with the exact search
# (measured with the exact search: Instance 13, 1.9 M terms, 5.3 GB; Instance 20, 182 days,
# 0.64 M terms, 6.3 GB — part of both was the LNS's uncollected model copies, fixed since
# (lns.GC_EVERY), so these limits are conservative; the exact search found no roster and no
# useful bound on either in 120 / 300 s)
COLGEN_MAX_DAYS = 84  # column generation (exact DP pricing) only up to this horizon ...
COLGEN_MAX_CELLS = 30_000  # ... and this many staff x days x shift types (a pricing round
# over Instance 13's 60,480 cells took 8 s on a quiet core, 25 s on a loaded one; 3-6 s with
# the DP's shift classes. Even with partial pricing the root LP there needs ~1,700 member
# pricings and ~100 LP solves, ~195 s on one core, before a dive or master IP can start)
COMPACT_SUB_LIMIT_S = 3.0  # ... where the LNS then solves compact sub-models, 3 s each
# (Instance 13, 120 s: 2990 / 3211 at 1 s, 2566 / 2602 at 2 s, 2383 at 3 s, 2655 at 5 s)
PARTIAL_CHUNK = 20  # Plan.colgen_chunk = -1 (off by default): column generation above
PARTIAL_ROOT_END = 0.7  # COLGEN_MAX_CELLS with partial pricing, 20 members per LP solve, the
# root stopping by 0.7 T. Its LP falls far faster per pricing (Instance 13 from 9199: 1615
# after 980 member pricings against 4966 after 1200 in full rounds), but at 120 s with 2
# workers it lost: 3308 / 2885 against 2393 / 2761 for today's path in the same window (the
# root LP reaches ~2000 by 0.7 T, unconverged: no dive, no master IP; docs/benchmarks.md,
# fifth pass)
LONG_DAYS = 84  # above: narrower DP beams in the construction (its exact DP is slow)
VERY_LONG_DAYS = 200  # above: narrower still in its sweeps
ANNEAL_END = 0.6  # without an exact search its thread anneals until 0.6 T, then the LNS;
# the construction's sweeps then end by the default 0.1 T, not 0.5 T (Instance 13 at 120 s:
# median 1747 against 2042 without; until 0.45 T or 0.3 T inside the spread; Instance 20 at
# 300 s: 5384-5514 against 6223-6328). Not where there is an exact search: on 9 and 10
# annealing alone for 60 s gave 462 and 4898 where the solve reaches 442 and proves 4631
# (docs/solver.md, "The plan"; docs/benchmarks.md, seventh, eighth and twenty-sixth passes)
ANNEAL_BOTH_MIN_DAYS = 84  # above: the primal thread anneals too (its own seed) until
# anneal_end, then both run the LNS (Instance 20, 300 s, three interleaved pairs on two VMs:
# 5438 / 5239 / 5157 with both against 5717 / 5294 / 5680 with one; on Instance 13, 28 days,
# 1757 / 1780 against 1659 / 1868, and 1750 against 1701 in the seventh pass: no gain there,
# where the primal thread's LNS fills short rows while the other anneals; docs/benchmarks.md,
# ninth pass)
ANNEAL_BOTH_END = 0.85  # ... and then both anneal until 0.85 T, not ANNEAL_END (Instance 20,
# 300 s, three interleaved pairs: 5232 / 5302 / 5175 against 5335 / 5387 / 5564 until 0.6 T;
# held-out Instance 22: 45902 / 47705 / 46713 / 46179 against 47204 / 47030 / 46094, within
# its spread; docs/benchmarks.md, tenth pass)
ROTATE_MIN_DAYS = 84  # above: the annealer rotates members' blocks of days too (anneal.py),
ROTATE_SHARE = 0.25  # at this share beside anneal_mix's four. Instance 20, 120 s alone, seeds
# 0-3 side by side: 5923 / 6381 / 6695 / 6156 against 6296 / 6880 / 7720 / 7467; full solves
# at 300 s 5559 against 5732, held-out 22 46225 against 47853. Not on 28 days: Instance 13 alone
# (60 s) 2608 / 2344 / 2341 against 2355 / 2322 / 2506, a full solve 2164 against 2063 (its
# short shifts are one-day weekends too, thirteenth pass, but rotations there did not pay;
# docs/benchmarks.md, twelfth pass)
SPLIT_MIN_DAYS = LONG_DAYS  # above: a shaping cost for
SPLIT_SHARE = 1.5  # every weekend a member works on one day only, 1.5 short weekend rows'
SPLIT_END = 0.7  # weight, falling to 0 by 0.7 of the phase (anneal.py): every short row of 13,
# 20 and 22 is on a weekend, and such a weekend spends one of the member's most weekends on one
# shift. 22 at 300 s: 37208 / 37468 against 44698 / 45811 (twenty-third pass); 20 inside its
# spread (5135 against 5174, mean of three pairs); not on 28 days (13: eighteenth pass; the
# figures: docs/solver.md, "The plan")
WEEKS_MIN_DAYS = LONG_DAYS  # above: the annealer's moves include week moves (a member's
WEEKS_SHARE = 0.3  # block of days swapped with the same days whole weeks away), at this
# relative share beside anneal_mix's and the rotations': a weekend's work moves to another
# weekend (22's rosters had 60 weekend shifts over on some weekends and 297 short on others).
# 22 at 300 s, two pairs: 33276 / 32743 (10.0 / 8.3 %) against 35015 / 35454; 20 three pairs,
# 5093 / 5089 / 5064 against 5108 / 5122 / 5076 (docs/benchmarks.md, twenty-seventh pass)
REQUESTS_SHARE = 0.15  # wherever annealing runs, this share of its moves are request swaps:
# a member with a broken shift request swaps a block of days around it with a member working
# the shift asked for (13 at 120 s, six pairs: median 1641 against 1810; 20 at 300 s lower in
# three pairs of three; docs/solver.md, "The plan")
COMPLETE_MAX_DAYS = LONG_DAYS  # up to this horizon
COMPLETE_SHARE = 0.05  # of annealing's moves complete a weekend a member works on one day
# (anneal.py): on 13 every short row is a weekend day, and its short shifts are its one-day
# weekends less the 18 its weekends can spare. 13 at 120 s, four interleaved pairs: 1556 /
# 1554 / 1545 / 1551 against 1817 / 1730 / 1838 / 1822. Not above 84 days: 20 and 22 alone
# halve their one-day weekends and keep their short shifts (docs/benchmarks.md, 35th pass)
ASKED_MAX_DAYS = 84  # up to this horizon annealing starts from every member's own best
# schedule for their shift requests, the cover left to the walk (Instance 13 at 120 s, nine
# interleaved pairs: median 1734 against 1778; docs/solver.md, "The plan")
FINISH_MIN_DAYS = 28  # above this horizon CP-SAT finishes the dive (dive.py, Plan.dive_finish)
FINISH_SHARE = 0.4  # once at most this share of the staff is free: the dive's last steps are
# its slowest there (Instance 18, 84 days: 6-26 s each, where CP-SAT closed the last 4 members
# in 0.75 s). 18 at 120 s, seeds 0-5: median 4692 with 0.4, 4896 with 0.25, 5103 with 0.6
# (seeds 0-2), ~5095 without; 14 (42 days) proved optimal with it. Not on 28 days: 12 4151
# against 4041 without, 8 (60 s) 1353 against 1312 (docs/benchmarks.md, sixteenth pass)
FINISH_RESERVE = 0.1  # the dive's steps stop this share of the time limit before its end, so
# the finish always runs (Instance 18 at 120 s, seeds 0-5: median 4822 against 5406 without;
# 12 at 28 days 4050 / 4148 against 5124 / 5039; docs/solver.md, "The plan")
SWEEP_EVERY = 0.1  # above LONG_DAYS up to VERY_LONG_DAYS (where the construction keeps beam 4)
# each annealing thread stops every 0.1 of its phase for one best-response sweep, at most 0.03
# of the phase long (Instance 20 at 300 s, three pairs: 5193 / 5212 / 5140 against 5430 / 5324
# / 5234; not on 22 nor 13: docs/solver.md, "The plan")
SWEEP_BEAMS = (0,)  # ... those sweeps re-plan each member exactly (the DP without a beam, ~5 s
# for Instance 20's 50 members): 20 at 300 s, six pairs, 4978-4997 against 4999-5027 with beam
# 4, lower in all six. Not above 200 days: one exact sweep of 22 did not end in 10 minutes
# (docs/benchmarks.md, thirty-third pass)
SIDEWAYS_MIN_DAYS = 84  # above: sideways compact-LNS steps (A/B, one LNS thread from a fixed
SIDEWAYS = 1.0  # roster, equal steps: Instance 20 median 6753 vs 7083 over six seeds;
# Instance 13 2093 vs 1993 over four, so not on 28 days: docs/benchmarks.md, fourth pass)


@dataclass(frozen=True)
class Plan:
    """Switches and budgets of one solve (times in seconds, shares of the time limit)."""

    flags: ModelFlags = field(default_factory=ModelFlags)  # the exact search's model
    lns_flags: ModelFlags = field(default_factory=lambda: ModelFlags(flow=False,
                                                                     windows=False))
    # phases
    construct: bool = True  # greedy + best-response first roster (actors/solve/construct.py)
    exact: bool = True  # CP-SAT's search on the full model
    lns: bool = True  # with >= 2 workers, one runs the staff/day LNS
    lns_handover: bool = True  # a stalled exact search's core goes to a second LNS
    colgen: bool = True  # column generation (bound, dive, guide) after the first roster
    lp_repair: bool = True  # ... and an LNS kind that re-plans members by it
    restart: bool = True  # ... the exact search restarts from a better roster (its hint)
    fixing: bool = True  # ... restricted by reduced-cost fixing and Lagrangian cuts
    fixing_share: float = 0.5  # ... given up when, at its pace, it would take more than this
    # share of the time left (Instance 12 on a slow VM: 33 s after the dive, from 87 s to T)
    master: bool = True  # ... the LNS stops once for the restricted master IP (rmip.py)
    lns_cuts: bool = True  # ... and the LNS's model gets the same banned cells and cuts
    lns_compact: bool = False  # LNS sub-solves on a model of the free cells alone (submodel.py)
    lns_merge: bool = False  # ... an improvement the other LNS overtook, merged over its roster
    # (off, as construct_adopt: the final runs with both, Instance 13 3082 against 2854 without,
    # Instance 20 6289 against 5802; docs/benchmarks.md, third pass)
    lns_chains: bool = False  # ... and a kind of ejection chains (exchange.py)
    lns_explore: float = 0.25  # ... a kind drawn at random this often, else by gain per second
    lns_draw: str = "rate"  # ... how a kind is drawn: "rate" (lns_explore, else by a moving
    # average of gain per wall second) or "work" (discounted gain per deterministic work with a
    # floor per kind: kinds.py; off: one LNS thread from a fixed roster, Instance 20, equal
    # work, ten seeds: median 6208 against 6319, lower in 7 of 10, inside the spread of ~700;
    # docs/benchmarks.md, sixth pass)
    lns_weekends: bool = False  # ... and a kind that trades weekends (weekends.py)
    lns_sideways: float = -1.0  # ... the chance a step may keep the objective (plateau.py;
    # -1: make_plan decides, SIDEWAYS above SIDEWAYS_MIN_DAYS, else 0)
    anneal_end: float = -1.0  # where the plan has no exact search, its thread anneals until
    # this share of the limit (anneal.py, sa_phase.py), then runs the second LNS (-1:
    # make_plan decides: ANNEAL_END without an exact search, else 0)
    anneal_threads: int = -1  # ... on the main thread alone (1), or the primal one's too (2;
    # -1: make_plan decides, 2 above ANNEAL_BOTH_MIN_DAYS, else 1)
    anneal_t0: float = 5.0  # ... temperatures at the start and the end of the annealing
    anneal_t1: float = 0.3
    anneal_weight: float = 300.0  # ... the cost of one step of a broken hard rule
    anneal_batch: int = 100_000  # ... moves between two looks at the clock and the incumbent
    anneal_mix: tuple[float, ...] = (0.2, 0.2, 0.3, 0.3)  # ... the relative shares of its
    # moves: a cell, a block swap, a take-over, a day move (anneal.py). Instance 20, 120 s
    # alone, seeds 2-4 side by side: 6727 / 6416 / 6404 against 7312 / 7116 / 7109 with
    # (0.3, 0.3, 0.3, 0.1); on 13 (60 s) 2330 / 2473 / 2184 against 2360 / 2240 / 2180
    # (docs/benchmarks.md, eleventh pass)
    anneal_rotate: float = -1.0  # ... the relative share of rotations (a member's block of
    # days shifted a day) beside anneal_mix's four (-1: make_plan decides, ROTATE_SHARE above
    # ROTATE_MIN_DAYS, else 0; a fifth anneal_mix share overrides it)
    anneal_weeks: float = -1.0  # ... the relative share of week moves (a member's block of
    # days swapped with the same days whole weeks away) beside the five above (-1: make_plan
    # decides, WEEKS_SHARE above WEEKS_MIN_DAYS, else 0; a sixth anneal_mix share overrides it)
    anneal_sweep_every: float = -1.0  # ... the share of its phase between two best-response
    # sweeps from its best roster (sa_phase.py; 0: none; -1: make_plan decides, SWEEP_EVERY
    # above LONG_DAYS up to VERY_LONG_DAYS, else 0)
    anneal_sweep_beams: tuple[int, ...] = ()  # ... their DP's beams (0: exact; empty:
    # make_plan decides, SWEEP_BEAMS where it plans the sweeps, else sweep_beams)
    anneal_sweep_cap: float = 0.03  # ... and the share of its phase one sweep may take (the
    # members not reached by then keep their schedules)
    anneal_fill: float = 0.0  # ... the share of its moves that fill a short cover row
    # (anneal.py). Off: on Instance 13 it lowers annealing's own result (alone, 60 s, seeds
    # 0 / 1: 1865 / 1782 against 2240 / 2373) but not the solve's, whose LNS after it ends
    # where it would have (120 s: 1731 / 1730 / 1730 against 1616 / 1694 / 1812); on
    # Instance 20 (180 s alone) 6781 against 6343 (docs/benchmarks.md, tenth pass)
    anneal_complete: float = -1.0  # ... the share of its moves that complete a weekend a
    # member works on one day (anneal.py; -1: make_plan decides, COMPLETE_SHARE up to
    # COMPLETE_MAX_DAYS, else 0)
    anneal_requests: float = -1.0  # ... the share of its moves that swap a block around a
    # broken shift request with a member working the shift asked for (anneal.py; -1:
    # make_plan decides: REQUESTS_SHARE)
    anneal_split: float = -1.0  # ... a shaping cost per weekend a member works on one day
    # only, as a share of the weekend rows' mean weight_under, added to what its moves are
    # accepted on (not to the objective), falling linearly to 0 over its phase (anneal.py;
    # -1: make_plan decides, SPLIT_SHARE above SPLIT_MIN_DAYS, else 0)
    anneal_split_end: float = -1.0  # ... reaching 0 by this share of the phase (-1: make_plan
    # decides, SPLIT_END where it plans a shaping cost, else 1)
    anneal_repair: float = 0.02  # ... every this share of its phase, a walk that breaks rules
    # below the best valid roster has its rule-breaking members re-planned by best response
    # (sa_phase.Repairs; 0: never)
    anneal_from: str = ""  # ... the roster it starts from: "incumbent" (the construction's)
    # or "requests": every member on the schedule that keeps the most of their own shift
    # requests, cover left to the walk (sa_phase.asked_roster; "": make_plan decides,
    # "requests" up to ASKED_MAX_DAYS, else "incumbent")
    lp_anneal: float = 0.0  # where one thread anneals and there is no column generation, the
    # other runs it (partial pricing) from the incumbent until this share, then anneals from
    # its LP's rounding until lp_anneal_end, then the LNS (lp_start.py). Off: on Instance 13 it
    # did not pay at 120 s (eight pairs) nor at 240 s (sixteen pairs; docs/benchmarks.md,
    # thirty-first and thirty-second passes)
    lp_anneal_end: float = 0.8
    core: bool = False  # CP-SAT's core-based objective search on the full-model worker
    max_lp: bool = True  # with <= 2 workers the full worker is CP-SAT's max_lp
    # budgets
    first_beams: tuple[int, ...] = (1, 4, 0)  # construction's greedy pass (0: exact DP)
    sweep_beams: tuple[int, ...] = (4,)  # ... its best-response sweeps
    type_limit: int = 0  # ... each DP first with only this many shift types (0: all)
    kicks: bool = False  # ... then ruin-and-recreate kicks until construct_share
    construct_share: float = 0.1  # the construction's sweeps end by this share
    construct_adopt: bool = False  # ... each starting from the incumbent when it is better
    # (only without column generation, whose sweeps end by 0.1 of the limit; off: see lns_merge)
    first_limit_s: float = 2.0  # CP-SAT's single-worker first roster (fallback)
    stall_s: float = 15.0  # the exact search hands its core over when its bound has not
    stall_gap: float = 0.02  # moved for this long and the gap is still this wide
    colgen_chunk: int = 0  # partial pricing: members priced per master LP solve (0: all;
    # colgen.generate); -1: make_plan decides (PARTIAL_CHUNK where the cells are too many)
    root_end: float = 1.0  # the root column generation stops by this share, converged or not
    dive_end: float = 0.85  # the dive must end by this share of the time limit
    dive_batch_per: int = 20  # the dive fixes one member per this many at a step (at least 1)
    dive_finish: float = -1.0  # ... and once at most this share of the staff is free,
    # CP-SAT re-plans them (the others fixed) and the dive ends (0: only when time cuts the
    # dive short, see dive_finish_reserve; -1: make_plan decides, FINISH_SHARE above
    # FINISH_MIN_DAYS, else 0)
    dive_finish_reserve: float = FINISH_RESERVE  # ... and this share of the time limit before
    # dive_end is kept for the finish: the steps' column generation stops by then, and at any
    # horizon a dive cut there (or hurrying to fix everyone at once) is finished by CP-SAT
    # instead of taking its LP's schedules (0: neither)
    dive_finish_group: int = 3  # ... members re-planned a step of the finish (finish.py; 0:
    # all in one solve, the sixteenth pass's way: from Instance 18's 7205, 11 members free,
    # one solve reached 6528 in 30 s, three a step 4790 in 22 s; seventeenth pass)
    master_at: float = 0.3  # the restricted master IP runs between these shares ...
    master_end: float = 0.8
    master_gap: float = 0.005  # ... when the incumbent is within this share above the LP
    sub_limit_s: float = 1.0  # one LNS sub-solve
    lp_limit_s: float = 5.0  # one LNS lp move
    explain_s: float = 10.0  # the infeasibility explanation, at most
    # what was estimated and left out
    estimated_terms: int = 0
    estimated_bytes: int = 0
    notes: tuple[str, ...] = ()

    @property
    def anneals(self) -> bool:
        """A thread anneals (there is no exact search, so its thread is free)."""
        return not self.exact and self.anneal_end > 0

    def with_overrides(self, overrides: dict[str, str]) -> Plan:
        """A copy with ``name=value`` overrides of plan or model-flag fields (bench/solve)."""
        plan_fields = {f.name: f for f in fields(self)}
        flag_fields = {f.name for f in fields(ModelFlags)}
        out, flags = {}, {}
        for name, text in overrides.items():
            if name in flag_fields:
                flags[name] = text not in ("0", "false")
            elif name in plan_fields:
                out[name] = _parse(text, getattr(self, name))
            else:
                raise ValueError(f"unknown plan or flag field {name!r}")
        plan = replace(self, **out)
        return replace(plan, flags=replace(plan.flags, **flags)) if flags else plan


def _parse(text: str, current: object) -> object:
    if isinstance(current, bool):
        return text not in ("0", "false")
    if isinstance(current, tuple):
        kind = type(current[0]) if current else int
        return tuple(kind(v) for v in text.split("/") if v)
    return type(current)(text)


def estimate_terms(problem: RosterProblem, flags: ModelFlags) -> int:
    """Rough number of variables plus constraint terms of the full model."""
    staff, days, shifts = len(problem.staff), problem.horizon.days, len(problem.shifts)
    cells = staff * days * (shifts + 1)
    follow = sum(len(s.cannot_follow) for s in problem.shifts) * staff * days * 2
    runs = sum((st.max_consecutive_shifts or 0) + st.min_consecutive_shifts
               + st.min_consecutive_days_off for st in problem.staff) * days * 2
    cover = len(problem.cover) * (staff + 4)
    requests = len(problem.shift_on_requests) + len(problem.shift_off_requests)
    extras = 0
    if flags.flow:  # arcs: states (runs x weekends) per day
        weekends = max((st.max_weekends or 0) + 1 for st in problem.staff)
        extras += staff * days * 16 * min(weekends, days // 7 + 1) * 3
    if flags.windows:
        extras += staff * days * 8
    return cells * 3 + follow + runs + cover + requests + extras


def _partial(plan: Plan) -> dict[str, object]:
    """Column generation with partial pricing where a full pricing round takes seconds: the
    LNS on compact sub-models as where there is none, no reduced-cost fixing (a DP per member,
    day and shift) and no LP repair moves (a dive each)."""
    out: dict[str, object] = {"lns_compact": True, "fixing": False, "lp_repair": False}
    if plan.colgen_chunk < 0:
        out["colgen_chunk"] = PARTIAL_CHUNK
    if plan.sub_limit_s == Plan.sub_limit_s:
        out["sub_limit_s"] = COMPACT_SUB_LIMIT_S
    if plan.root_end == Plan.root_end:
        out["root_end"] = PARTIAL_ROOT_END
    return out


def _anneals(plan: Plan, changes: dict[str, object]) -> bool:
    """The plan's second thread will anneal: no exact search, and annealing not switched off."""
    return not changes.get("exact", plan.exact) and plan.anneal_end != 0


def _no_exact_note(days: int, terms: int, anneals: bool) -> str:
    """Why the plan has no exact search (memory, or a horizon where it never paid), and what
    its thread does instead."""
    size = f"the full model ({days} days, ~{terms:,} terms, ~{terms * BYTES_PER_TERM >> 20} MB"
    why = (f"{size} with CP-SAT) is over the memory budget" if terms > EXACT_MAX_TERMS else
           f"{size}) spans more than {EXACT_MAX_DAYS} days, where the exact search found no "
           "roster and no useful bound in the time")
    instead = "annealing, then a second LNS," if anneals else "a second LNS"
    return f"{why}: no exact search and no proof; its thread runs {instead} instead"


def make_plan(problem: RosterProblem, options: SolveOptions,
              base: Plan | None = None) -> Plan:
    """The plan for ``problem``: ``base`` (default :class:`Plan`) scaled to its size."""
    plan = base or Plan()
    days = problem.horizon.days
    notes: list[str] = []
    changes: dict[str, object] = {}
    flags = plan.flags
    if days > EXTRAS_MAX_DAYS and (flags.flow or flags.windows):
        flags = replace(flags, flow=False, windows=False)
        notes.append(f"{days} days: the exact model is built without its network flow and "
                     f"window cuts (they take minutes to build above {EXTRAS_MAX_DAYS} days)")
    terms = estimate_terms(problem, flags)
    changes.update(flags=flags, estimated_terms=terms, estimated_bytes=terms * BYTES_PER_TERM)
    if plan.exact and (terms > EXACT_MAX_TERMS or days > EXACT_MAX_DAYS):
        changes["exact"] = False
        notes.append(_no_exact_note(days, terms, _anneals(plan, changes)))
    cells = len(problem.staff) * days * len(problem.shifts)
    anneals = _anneals(plan, changes)
    partial = plan.colgen_chunk != 0 and days <= COLGEN_MAX_DAYS
    if plan.colgen and partial and cells > COLGEN_MAX_CELLS:
        changes.update(_partial(plan))
        notes.append(f"{days} days x {len(problem.staff)} staff x {len(problem.shifts)} shift "
                     "types: column generation prices members in chunks (partial pricing) "
                     "beside the compact LNS")
    elif plan.colgen and (days > COLGEN_MAX_DAYS or cells > COLGEN_MAX_CELLS):
        changes.update(colgen=False, lns_compact=True)
        if plan.construct_share == Plan.construct_share and not anneals:
            changes["construct_share"] = 0.5  # the sweeps improve instead
        if plan.sub_limit_s == Plan.sub_limit_s:
            changes["sub_limit_s"] = COMPACT_SUB_LIMIT_S
        # (kicks after them were measured worse: Instance 20 at 100 s 10148 vs 9771 without,
        # Instance 13 at 120 s 4384 vs 4077: the LNS does better with that time)
        notes.append(f"{days} days x {len(problem.staff)} staff x {len(problem.shifts)} shift "
                     "types: no column generation (its exact pricing is too slow), so no "
                     "lower bound beyond CP-SAT's")
    threads = plan.anneal_threads
    if threads < 0:
        threads = changes["anneal_threads"] = 2 if anneals and days > ANNEAL_BOTH_MIN_DAYS else 1
    if plan.anneal_end < 0:
        end = ANNEAL_BOTH_END if threads >= 2 else ANNEAL_END
        changes["anneal_end"] = end if anneals else 0.0
    if anneals:
        who, verb = ("both threads anneal", "run") if threads >= 2 else ("one thread anneals",
                                                                          "runs")
        notes.append(f"{who} (simulated annealing over whole rosters) until "
                     f"{changes.get('anneal_end', plan.anneal_end):.0%} of the time limit, "
                     f"then {verb} the LNS")
    if plan.colgen_chunk < 0 and "colgen_chunk" not in changes:
        changes["colgen_chunk"] = 0
    if days > LONG_DAYS:
        changes.update(first_beams=(1, 2, 4, 8), type_limit=3,
                       sweep_beams=(2,) if days > VERY_LONG_DAYS else (4,))
    if plan.anneal_rotate < 0:
        changes["anneal_rotate"] = ROTATE_SHARE if days > ROTATE_MIN_DAYS else 0.0
    if plan.anneal_weeks < 0:
        changes["anneal_weeks"] = WEEKS_SHARE if days > WEEKS_MIN_DAYS else 0.0
    if plan.anneal_requests < 0:
        changes["anneal_requests"] = REQUESTS_SHARE
    if plan.anneal_complete < 0:
        changes["anneal_complete"] = COMPLETE_SHARE if days <= COMPLETE_MAX_DAYS else 0.0
    if not plan.anneal_from:
        changes["anneal_from"] = "requests" if days <= ASKED_MAX_DAYS else "incumbent"
    if plan.anneal_split < 0:
        changes["anneal_split"] = SPLIT_SHARE if days > SPLIT_MIN_DAYS else 0.0
    if plan.anneal_split_end < 0:
        changes["anneal_split_end"] = SPLIT_END if days > SPLIT_MIN_DAYS else 1.0
    if plan.dive_finish < 0:
        changes["dive_finish"] = FINISH_SHARE if days > FINISH_MIN_DAYS else 0.0
    if plan.anneal_sweep_every < 0:
        changes["anneal_sweep_every"] = (SWEEP_EVERY if LONG_DAYS < days <= VERY_LONG_DAYS
                                         else 0.0)
    if not plan.anneal_sweep_beams:
        changes["anneal_sweep_beams"] = (SWEEP_BEAMS if LONG_DAYS < days <= VERY_LONG_DAYS
                                         else changes.get("sweep_beams", plan.sweep_beams))
    if plan.lns_sideways < 0:
        changes["lns_sideways"] = SIDEWAYS if days > SIDEWAYS_MIN_DAYS else 0.0
    if (options.workers or 2) < 2 and plan.lns:
        notes.append("one worker: the LNS does not run beside the exact search")
    return replace(plan, **changes, notes=plan.notes + tuple(notes))
