"""The root column generation alone, pricing with and without a threshold, side by side.

`ColumnPool.pays_below` tells the DP pricer what a column must cost to price out, and the DP
drops partial schedules that cannot end below it. This bench runs the root from the same
first roster (the construction's, bounded by its sweeps, not by time) with the threshold
(`below`) and without it (`all`: the k cheapest schedules whatever they cost, the pricing of
before), alternating which arm runs first, and prints per arm the rounds, pricings, pricing
seconds, wall seconds to convergence (or the limit) and the master LP value.

    .venv/bin/python bench/colgen_root.py --data ../shared/benchmarks/shift_scheduling \\
        --instances 9,10,12,14,18 --limit 120 --json bench/results/colgen_root.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.solve import parse_range  # noqa: E402


class Timed:
    """A real pricer whose seconds are summed; ``below`` is passed on only when ``cut``."""

    def __init__(self, pricer: object, cut: bool, clock: list[float]) -> None:
        self.pricer, self.cut, self.clock = pricer, cut, clock

    def price(self, weights: dict, limit_s: float, seed: int,
              below: float = math.inf) -> tuple:
        began = time.perf_counter()
        out = self.pricer.price(weights, limit_s, seed,  # type: ignore[attr-defined]
                                below=below if self.cut else math.inf)
        self.clock[0] += time.perf_counter() - began
        return out


def root(problem: object, roster: dict, cut: bool, limit: float) -> dict:
    from actors.solve.colgen import CgState, ColumnPool, generate, make_pricers

    pool = ColumnPool(problem)  # type: ignore[arg-type]
    pool.add_roster(roster)
    clock = [0.0]
    pricers = [Timed(p, cut, clock) for p in make_pricers(problem)]  # type: ignore[arg-type]
    began = time.perf_counter()
    state = generate(pool, pricers, time.monotonic() + limit, CgState())  # type: ignore[arg-type]
    return {"arm": "below" if cut else "all", "rounds": state.rounds, "pricings": state.priced,
            "pricing_s": round(clock[0], 2), "wall_s": round(time.perf_counter() - began, 2),
            "lp": round(state.lp, 3), "bound": round(state.bound, 3),
            "converged": state.converged}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "tests" / "data" / "shift_scheduling")
    ap.add_argument("--instances", default="9,10,12,14,18")
    ap.add_argument("--limit", type=float, default=120.0, help="seconds per root, at most")
    ap.add_argument("--arms", default="below,all", help="below (the threshold), all, or both")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    from actors.solve.construct import construct
    from actors.solve.pricing import warm_up
    from actors.solve.reader import parse_problem_text

    warm_up()
    rows = []
    for i, number in enumerate(parse_range(args.instances)):
        problem = parse_problem_text((args.data / f"Instance{number}.txt").read_text())
        roster = construct(problem, time.monotonic() + 600).roster
        arms = [arm == "below" for arm in args.arms.split(",")]
        for cut in (arms if i % 2 == 0 else arms[::-1]):
            rows.append({"instance": number, **root(problem, roster, cut, args.limit)})
            r = rows[-1]
            print(f"{number:>3} {r['arm']:>5} rounds {r['rounds']:>4} pricings {r['pricings']:>6}"
                  f" pricing {r['pricing_s']:>7.2f} s wall {r['wall_s']:>7.2f} s"
                  f" LP {r['lp']:>10.3f} {'converged' if r['converged'] else 'at the limit'}",
                  flush=True)
    if args.json:
        args.json.write_text(json.dumps({"limit_s": args.limit, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
