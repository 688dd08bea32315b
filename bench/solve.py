"""Benchmark the rostering solver on the Shift Scheduling Benchmark (Curtois & Qu).

    .venv/bin/python bench/solve.py --time-limit 60 --workers 2 --instances 1-8 \\
        --json bench/results/solve.json
    .venv/bin/python bench/solve.py --time-limit 120 --instances 9,10,13 \\
        --data ../shared/benchmarks/shift_scheduling --json bench/results/solve_tuned.json

Each instance runs in its own process (so its peak memory is its own: ``os.wait4``) and is
solved exactly as the actor does. Prints status, objective, best known, gap to it, bound, time
to the first roster, time to best, wall time and peak memory, and writes the rows as JSON with
the load average around each run (the machine may be shared). Every roster is re-validated by
the independent checker.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data" / "shift_scheduling"
BEST_KNOWN = {1: 607, 2: 828, 3: 1001, 4: 1716, 5: 1143, 6: 1950, 7: 1056, 8: 1300, 9: 439,
              10: 4631, 12: 4040, 13: 1348, 14: 1278, 18: 4459, 20: 4769, 22: 30241}


def parse_range(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def run_one(path: Path, number: int, args: argparse.Namespace) -> dict:
    """Solve one instance in this process (the child's side)."""
    from actors.solve.model import solve
    from actors.solve.plan import Plan
    from actors.solve.pricing import warm_up
    from actors.solve.reader import parse_problem_text
    from actors.solve.schema import SolveOptions, SolveStatus

    warm_up()  # the worker does this at boot (numba's cache)
    overrides = dict(p.split("=", 1) for p in args.plan.split(",") if p)
    plan = Plan().with_overrides(overrides)
    problem = parse_problem_text(path.read_text())
    options = SolveOptions(time_limit_s=args.time_limit, workers=args.workers, seed=args.seed)
    trace = _Trace()
    logging.getLogger("actors.solve.search").addHandler(trace)
    logging.getLogger("actors.solve.search").setLevel(logging.DEBUG)
    r = solve(problem, options, plan=plan)
    best = BEST_KNOWN.get(number)
    return {
        "instance": number, "status": r.status.value, "objective": r.objective,
        "best_known": best,
        "gap_to_best_known": None if r.objective is None or best is None
        else (r.objective - best) / best,
        "best_bound": r.best_bound, "time_to_first_s": r.time_to_first_s,
        "time_to_best_s": r.time_to_best_s,
        "time_to_proof_s": r.wall_time_s if r.status == SolveStatus.OPTIMAL else None,
        "wall_time_s": r.wall_time_s, "notes": r.notes,
        "checker_ok": bool(r.checked and r.checked.feasible and r.checked.objective == r.objective),
        "trace": trace.rows,
    }


class _Trace(logging.Handler):
    """Every improvement of the incumbent: [elapsed s, objective, the phase that found it]."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.rows: list[list] = []

    def emit(self, record: logging.LogRecord) -> None:
        found = getattr(record, "improvement", None)  # (Search._improved's log record)
        if found is not None:
            at, objective, source = found
            self.rows.append([round(at, 1), objective, source])


def run_child(number: int, args: argparse.Namespace) -> dict:
    """Run one instance in a child process; add its peak memory and the load around it."""
    cmd = [sys.executable, __file__, "--one", str(number), "--time-limit", str(args.time_limit),
           "--workers", str(args.workers), "--seed", str(args.seed), "--data", args.data,
           "--plan", args.plan]
    load_before, started = os.getloadavg(), time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    row = json.loads(lines[-1]) if lines else {"instance": number, "status": "CRASHED",
                                               "objective": None, "checker_ok": False}
    row.update(process_wall_s=time.monotonic() - started, peak_rss_mb=usage.ru_maxrss / 1024,
               load_before=load_before, load_after=os.getloadavg(), exit_code=proc.returncode)
    return row


def fmt(v: object, spec: str = "") -> str:
    return "-" if v is None else format(v, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--instances", default="1-8")
    ap.add_argument("--data", default=str(DATA), help="folder of InstanceN.txt files")
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "solve.json"))
    ap.add_argument("--plan", default="",
                    help="Plan or ModelFlags overrides, e.g. colgen=0,flow=0,stall_s=30 "
                         "(actors/solve/plan.py)")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(Path(args.data) / f"Instance{args.one}.txt", args.one, args)))
        return
    print("| inst | status | objective | best known | gap to best | bound | first roster s "
          "| time to best s | wall s | peak MB | load 1-min | checker |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for number in parse_range(args.instances):
        row = run_child(number, args)
        rows.append(row)
        print(f"| {number} | {row['status']} | {fmt(row['objective'])} | "
              f"{fmt(row.get('best_known'))} | {fmt(row.get('gap_to_best_known'), '.1%')} "
              f"| {fmt(row.get('best_bound'), '.0f')} | {fmt(row.get('time_to_first_s'), '.1f')} "
              f"| {fmt(row.get('time_to_best_s'), '.1f')} | {fmt(row.get('wall_time_s'), '.1f')} "
              f"| {row['peak_rss_mb']:.0f} | {row['load_before'][0]:.1f} "
              f"| {'ok' if row['checker_ok'] else 'FAIL'} |", flush=True)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "command": " ".join(sys.argv), "time_limit_s": args.time_limit,
        "workers": args.workers, "seed": args.seed, "plan": args.plan,
        "machine": platform.platform(), "cpus": os.cpu_count(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
