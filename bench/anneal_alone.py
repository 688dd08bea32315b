"""Simulated annealing alone on one instance, one core, from the construction's greedy roster
(or, where the plan anneals from the requests, every member's own best schedule for them):
the development loop for the annealer's moves (a quicker, less noisy signal than a full solve).

    .venv/bin/python bench/anneal_alone.py --data ../shared/benchmarks/shift_scheduling \\
        --instance 13 --seconds 60 --seed 0

Batches of ``--batch`` moves as the annealing phase runs them
(:func:`actors.solve.sa_phase.anneal_batch`: clock-following temperatures and the shaping
cost), with the phase's repairs of a walk that breaks rules
(:class:`actors.solve.sa_phase.Repairs`). Prints the best valid objective, its breakdown, the
missing and surplus shifts, the members' unused minutes, the weekends worked on one day only,
the moves a second and the repairs tried and kept, as one JSON line (``--json`` appends it to
a file). ``--lp-start S`` starts instead from the rounding of column generation (partial
pricing, :mod:`actors.solve.lp_start`) run for S seconds from the greedy roster, as
``Plan.lp_anneal`` does in a solve (its seconds are not counted in ``--seconds``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def lp_rounded(problem: object, roster: dict, seconds: float) -> dict:
    """Column generation with partial pricing from ``roster`` for ``seconds``, rounded (each
    member on their heaviest schedule in the last master LP), as the solve's LP start does."""
    from actors.solve.lp_start import lp_rounding

    start, state = lp_rounding(problem, roster, time.monotonic() + seconds)  # type: ignore[arg-type]
    assert start is not None, "no master LP in the time given"
    print(f"LP {state.lp:.1f} after {state.rounds} solves", file=sys.stderr)
    return start


def main() -> None:
    import numpy as np
    from anneal_rate import greedy_start  # (bench/, the script's folder)

    from actors.solve.anneal import Annealer
    from actors.solve.checker import check_roster, objective_breakdown
    from actors.solve.plan import Plan, make_plan
    from actors.solve.pricing import weekend_index
    from actors.solve.reader import parse_problem_text
    from actors.solve.sa_phase import Pricers, Repairs, anneal_batch, start_roster
    from actors.solve.schema import SolveOptions

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "tests" / "data" / "shift_scheduling")
    ap.add_argument("--instance", type=int, default=13)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plan", default="", help="Plan overrides, k=v,... (anneal_t0, ...)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--roster", type=Path, help="write the best roster here (JSON)")
    ap.add_argument("--start", type=Path, help="start from this roster (JSON), not the greedy")
    ap.add_argument("--lp-start", type=float, default=0.0,
                    help="start from column generation's rounding after this many seconds")
    args = ap.parse_args()
    problem = parse_problem_text((args.data / f"Instance{args.instance}.txt").read_text())
    base = Plan().with_overrides(dict(p.split("=", 1) for p in args.plan.split(",") if p))
    plan = make_plan(problem, SolveOptions(time_limit_s=120, workers=2), base)
    first = (json.loads(args.start.read_text()) if args.start
             else greedy_start(problem, plan, args.seed).roster)
    if args.lp_start > 0:
        first = lp_rounded(problem, first, args.lp_start)
    elif not args.start:  # (as the solve's phase starts)
        first = start_roster(problem, plan, first, Pricers(problem))
    ann = Annealer(problem, first, plan)
    ann.run(1000, 1.0, 1.0, plan.anneal_weight, 0)  # compile or load
    ann.reset(first)
    start = now = time.monotonic()
    repairs = Repairs(plan, args.seed, start, args.seconds)
    moves, batch, last = 0, 0, 0.0
    while now - start < args.seconds:
        share = (now - start) / args.seconds
        anneal_batch(ann, plan, share, last / args.seconds, args.seed * 100_003 + batch)
        moves, batch, last = moves + plan.anneal_batch, batch + 1, time.monotonic() - now
        repairs.maybe(ann)
        now = time.monotonic()
    best = ann.best_roster()
    assert check_roster(problem, best).feasible
    parts = objective_breakdown(problem, best)
    minutes = {s.id: s.length_minutes for s in problem.shifts}
    spare = sum(max(0, (st.max_total_minutes or 0)
                    - sum(minutes[v] for v in best[st.id] if v is not None))
                for st in problem.staff)
    weekend = weekend_index(problem)
    halves = sum(len({best[st.id][d] is None for d in np.flatnonzero(weekend == k)}) == 2
                 for st in problem.staff for k in range(int(weekend.max()) + 1))
    row = {"instance": args.instance, "seed": args.seed, "seconds": args.seconds,
           "plan": args.plan, "lp_start_s": args.lp_start, "best": ann.best_objective,
           "breakdown": parts.model_dump(),
           "missing_shifts": parts.under_cover / 100,  # (this benchmark's weight)
           "spare_minutes": spare, "half_weekends": halves,
           "moves_per_s": round(moves / (now - start)),
           "repairs": repairs.count, "repairs_kept": repairs.kept}
    print(json.dumps(row))
    if args.roster:
        args.roster.write_text(json.dumps(best))
    if args.json:
        with args.json.open("a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
