"""Benchmark the rostering solver on the Shift Scheduling Benchmark Instances 1-8.

    .venv/bin/python bench/solve.py --time-limit 60 --workers 2 --instances 1-8 \
        --json bench/results/solve.json

Prints objective, best-known, gap to best-known, best bound, time to best and time to proof,
and writes the rows as JSON. Every roster is re-validated by the independent checker.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actors.solve.constraints import ModelFlags  # noqa: E402
from actors.solve.model import solve  # noqa: E402
from actors.solve.reader import parse_problem_text  # noqa: E402
from actors.solve.schema import SolveOptions, SolveStatus  # noqa: E402

DATA = ROOT / "tests" / "data" / "shift_scheduling"
BEST_KNOWN = {1: 607, 2: 828, 3: 1001, 4: 1716, 5: 1143, 6: 1950, 7: 1056, 8: 1308}


def parse_range(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def run_one(number: int, args: argparse.Namespace, flags: ModelFlags) -> dict:
    problem = parse_problem_text((DATA / f"Instance{number}.txt").read_text())
    options = SolveOptions(time_limit_s=args.time_limit, workers=args.workers, seed=args.seed)
    r = solve(problem, options, flags=flags)
    best = BEST_KNOWN[number]
    proved = r.status == SolveStatus.OPTIMAL
    return {
        "instance": number, "status": r.status.value, "objective": r.objective,
        "best_known": best,
        "gap_to_best_known": None if r.objective is None else (r.objective - best) / best,
        "best_bound": r.best_bound, "time_to_best_s": r.time_to_best_s,
        "time_to_proof_s": r.wall_time_s if proved else None, "wall_time_s": r.wall_time_s,
        "checker_ok": bool(r.checked and r.checked.feasible and r.checked.objective == r.objective),
    }


def fmt(v: object, spec: str = "") -> str:
    return "-" if v is None else format(v, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--instances", default="1-8")
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "solve.json"))
    ap.add_argument("--flags", default="",
                    help="ModelFlags overrides, e.g. lns=0,flow=0 (actors/solve/constraints.py)")
    args = ap.parse_args()
    overrides = {k: v not in ("0", "false") for k, _, v in
                 (p.partition("=") for p in args.flags.split(",") if p)}
    flags = ModelFlags(**overrides)
    print("| inst | status | objective | best known | gap to best | bound | time to best s "
          "| time to proof s | checker |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = []
    load_before = os.getloadavg()
    for number in parse_range(args.instances):
        row = run_one(number, args, flags)
        rows.append(row)
        print(f"| {number} | {row['status']} | {fmt(row['objective'])} | {row['best_known']} "
              f"| {fmt(row['gap_to_best_known'], '.1%')} | {fmt(row['best_bound'], '.0f')} "
              f"| {fmt(row['time_to_best_s'], '.1f')} | {fmt(row['time_to_proof_s'], '.1f')} "
              f"| {'ok' if row['checker_ok'] else 'FAIL'} |", flush=True)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "time_limit_s": args.time_limit, "workers": args.workers, "seed": args.seed,
        "flags": flags.__dict__, "machine": platform.platform(), "cpus": os.cpu_count(),
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
