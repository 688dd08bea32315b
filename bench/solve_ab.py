"""A/B comparison of one solver phase with little spread: from a fixed roster, bounded by work.

    nice -n 10 .venv/bin/python bench/solve_ab.py --instance 13 \\
        --data ../shared/benchmarks/shift_scheduling --steps 60 --seeds 1,2,3 \\
        --arm base: --arm weekends:lns_weekends=1

One LNS thread (the plan's, with ``--plan``-style overrides per arm) runs ``--steps``
sub-solves (or, with ``--work``, until their summed deterministic time reaches it) from the
same starting roster for each seed; each sub-solve is bounded by CP-SAT's
deterministic time (``--det``), not the wall clock, so a run depends on the seed and the code,
not on the machine's load (the kinds' rates still use the wall clock). The starting roster is
read from ``--start`` (default ``bench/results/solve_ab_starts/Instance<N>.json``, kept in
the repository so that later passes start from the same roster) or, when that file is
missing, made there: the construction (until
``--construct-s``) and ``--warm-steps`` LNS steps of the plan's defaults, seed 0. Prints each
run and, per arm, the median / min / max objective and wall seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actors.solve.incumbent import Incumbent  # noqa: E402
from actors.solve.plan import Plan, make_plan  # noqa: E402
from actors.solve.reader import parse_problem_text  # noqa: E402
from actors.solve.schema import Assignments, RosterProblem, SolveOptions  # noqa: E402

#: Starting rosters kept between sessions (Instance 20: 7502, the sixth pass's start;
#: Instance 13: 1884, a 120 s solve of the eleventh pass).
STARTS = Path(__file__).resolve().parent / "results" / "solve_ab_starts"


class _Search:
    """What :func:`actors.solve.primal.lns_worker` reads of a search."""

    def __init__(self, problem: RosterProblem, inc: Incumbent) -> None:
        self.problem, self.inc, self.started = problem, inc, time.monotonic()


def run_lns(problem: RosterProblem, plan: Plan, roster: Assignments, seed: int, steps: int,
            det: float, kinds: list[str], save: str = "", linearization: int = -1,
            work: float = 0.0) -> tuple[int, float, dict[str, str], Assignments]:
    """One LNS thread from ``roster`` for ``steps`` sub-solves (with only ``kinds``, when
    given): (objective, seconds, tries/gain by kind, the roster it ended with)."""
    from actors.solve.lns import Arm
    from actors.solve.primal import lns_worker

    inc = Incumbent()
    assert inc.offer(problem, roster, None, "start", 0.0), inc.rejected
    search = _Search(problem, inc)
    worker = lns_worker(search, plan, seed)  # type: ignore[arg-type]
    worker.det_limit = det
    if kinds:
        worker.arms = [Arm(kind) for kind in kinds]
    if linearization >= 0:
        worker.linearization = linearization
    began = time.monotonic()
    if work:  # one step at a time until the sub-solves' deterministic time reaches work
        while worker.work < work and worker.steps < steps:
            worker.run(time.monotonic() + 3600, max_steps=worker.steps + 1)
    else:
        worker.run(time.monotonic() + 3600, max_steps=steps)
    tries = {arm.kind: f"{arm.tries}/{arm.gains}" for arm in worker.arms}
    tries["work"] = f"{worker.work:.0f} in {worker.steps} steps"
    assert inc.objective is not None and inc.roster is not None
    if save:
        Path(save).write_text(json.dumps(inc.roster))
    return inc.objective, time.monotonic() - began, tries, inc.roster


def make_start(problem: RosterProblem, plan: Plan, construct_s: float, warm_steps: int,
               det: float) -> Assignments:
    from actors.solve.construct import construct

    built = construct(problem, time.monotonic() + construct_s, sweep_beams=plan.sweep_beams,
                      first_beams=plan.first_beams, type_limit=plan.type_limit,
                      sweep_until=time.monotonic() + construct_s)
    assert built.roster is not None
    print(f"construction: {built.objective} in {built.seconds:.1f} s", flush=True)
    if not warm_steps:
        return built.roster
    objective, _, _, roster = run_lns(problem, plan, built.roster, 0, warm_steps, det, [])
    print(f"warm LNS: {objective}", flush=True)
    return roster


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", type=int, required=True)
    ap.add_argument("--data", default=str(ROOT / "tests" / "data" / "shift_scheduling"))
    ap.add_argument("--start", default="", help="starting roster JSON (made when missing)")
    ap.add_argument("--construct-s", type=float, default=30.0)
    ap.add_argument("--warm-steps", type=int, default=40)
    ap.add_argument("--time-limit", type=float, default=120.0,
                    help="the limit the plan is made for (it sizes the plan, nothing else)")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--work", type=float, default=0.0,
                    help="stop once the sub-solves' deterministic time reaches this")
    ap.add_argument("--det", type=float, default=2.0, help="deterministic time per sub-solve")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--save", default="", help="write each run's final roster here")
    ap.add_argument("--json", default="", help="write every run and each arm's summary here")
    ap.add_argument("--arm", action="append", default=[],
                    help="name:key=value,... plan overrides; kinds=a/b: only those "
                    "LNS kinds; linearization=N: the sub-solves' level (repeatable)")
    args = ap.parse_args()
    problem = parse_problem_text(
        (Path(args.data) / f"Instance{args.instance}.txt").read_text())
    options = SolveOptions(time_limit_s=args.time_limit, workers=2, seed=0)
    base = make_plan(problem, options)
    start_path = Path(args.start or STARTS / f"Instance{args.instance}.json")
    if start_path.exists():
        roster = json.loads(start_path.read_text())
    else:
        roster = make_start(problem, base, args.construct_s, args.warm_steps, args.det)
        start_path.parent.mkdir(parents=True, exist_ok=True)
        start_path.write_text(json.dumps(roster))
    inc = Incumbent()
    inc.offer(problem, roster, None, "start", 0.0)
    print(f"start: {inc.objective} ({start_path})", flush=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    results: dict[str, list[tuple[int, float]]] = {}
    for arm in args.arm or ["base:"]:
        name, _, text = arm.partition(":")
        overrides = dict(p.split("=", 1) for p in text.split(",") if p)
        kinds = [k for k in overrides.pop("kinds", "").split("/") if k]  # only these kinds
        linearization = int(overrides.pop("linearization", -1))  # the sub-solves' level
        plan = make_plan(problem, options, Plan().with_overrides(overrides))
        for seed in seeds:
            obj, secs, tries, _ = run_lns(problem, plan, roster, seed, args.steps, args.det,
                                         kinds, args.save, linearization,
                                         args.work)
            results.setdefault(name, []).append((obj, secs))
            print(f"{name} seed {seed}: {obj} in {secs:.1f} s {tries}", flush=True)
    summary = {}
    for name, runs in results.items():
        objs, secs = [r[0] for r in runs], [r[1] for r in runs]
        summary[name] = {"objectives": objs, "median": statistics.median(objs),
                         "min": min(objs), "max": max(objs),
                         "seconds_median": round(statistics.median(secs), 1)}
        print(f"== {name}: median {statistics.median(objs)} min {min(objs)} max {max(objs)}; "
              f"seconds median {statistics.median(secs):.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"command": " ".join(sys.argv), "seeds": seeds,
                                               "start": inc.objective, "arms": summary},
                                              indent=1))


if __name__ == "__main__":
    main()
