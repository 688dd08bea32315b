"""How many moves a second the annealer makes, per instance (one core, the GIL released).

    .venv/bin/python bench/anneal_rate.py --data ../shared/benchmarks/shift_scheduling \\
        --instances 13,20,22 --json bench/results/anneal_rate.json

Starts from the construction's first roster (no sweeps, the solve's beams), warms the kernels
on it, then times ``--rounds`` runs of ``--moves`` moves at a fixed temperature and reports the
median rate and the best valid objective reached (``--starts``: from a saved, good roster
instead, where annealing spends most of its time). To compare two versions of the kernel, run
it from both checkouts one after the other (``--root`` names the checkout whose code is
imported).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def greedy_start(problem, plan=None, seed: int = 0):  # noqa: ANN001, ANN201
    """The construction's first roster (no sweeps) with the beams of ``plan``, a plan
    ``make_plan`` made for ``problem`` (None: the solve's default plan)."""
    from actors.solve.construct import construct
    from actors.solve.plan import make_plan
    from actors.solve.schema import SolveOptions

    if plan is None:
        plan = make_plan(problem, SolveOptions(time_limit_s=120, workers=2))
    return construct(problem, time.monotonic() + 600, seed=seed, max_sweeps=0,
                     first_beams=plan.first_beams, type_limit=plan.type_limit)


def rate(path: Path, args: argparse.Namespace) -> dict:
    from actors.solve.anneal import Annealer
    from actors.solve.checker import check_roster
    from actors.solve.reader import parse_problem_text

    problem = parse_problem_text(path.read_text())
    saved = args.starts / f"{path.stem}.json" if args.starts else None
    if saved is not None and saved.exists():  # a good roster: where annealing spends its time
        roster = json.loads(saved.read_text())
        objective = check_roster(problem, roster).objective
    else:
        built = greedy_start(problem)
        roster, objective = built.roster, built.objective
    ann = Annealer(problem, roster)
    ann.run(1000, args.temperature, args.temperature, args.weight, 0)  # compile or load
    ann.reset(roster)
    rates = []
    for r in range(args.rounds):
        t0 = time.perf_counter()
        ann.run(args.moves, args.temperature, args.temperature, args.weight, r + 1)
        rates.append(args.moves / (time.perf_counter() - t0))
    return {"instance": path.stem, "days": problem.horizon.days, "staff": len(problem.staff),
            "moves_per_s": statistics.median(rates), "rates": rates,
            "start_objective": objective, "best_objective": ann.best_objective,
            "unscored": getattr(ann, "unscored", None)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "tests" / "data" / "shift_scheduling")
    ap.add_argument("--instances", default="13")
    ap.add_argument("--moves", type=int, default=2_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--weight", type=float, default=300.0)
    ap.add_argument("--root", type=Path, default=ROOT)
    ap.add_argument("--starts", type=Path, help="start from <dir>/Instance<N>.json where it "
                    "exists (else the greedy roster), e.g. bench/results/solve_ab_starts")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    sys.path.insert(0, str(args.root.resolve()))
    rows = [rate(args.data / f"Instance{n}.txt", args) for n in args.instances.split(",")]
    print(f"{'instance':<12}{'days':>6}{'staff':>7}{'moves/s':>12}{'start':>9}{'best':>9}")
    for r in rows:
        print(f"{r['instance']:<12}{r['days']:>6}{r['staff']:>7}{r['moves_per_s']:>12,.0f}"
              f"{r['start_objective']:>9}{r['best_objective']:>9}")
    if args.json:
        args.json.write_text(json.dumps({"root": str(args.root), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
