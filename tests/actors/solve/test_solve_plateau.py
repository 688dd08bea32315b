"""Sideways LNS moves (actors/solve/plateau.py) and the weekend-trading neighbourhood
(actors/solve/weekends.py): rosters checked by the checker, work bounded by steps and
CP-SAT's deterministic time, real CP-SAT."""

import random
import time
from pathlib import Path

from ortools.sat.python import cp_model

from actors.solve.checker import check_roster
from actors.solve.constraints import ModelFlags, build_model, weekend_days
from actors.solve.construct import construct
from actors.solve.hints import add_hints
from actors.solve.incumbent import Incumbent
from actors.solve.lns import Arm, LnsWorker
from actors.solve.neighbourhood import cells_to_free
from actors.solve.plateau import must_differ
from actors.solve.reader import parse_problem_text
from actors.solve.submodel import Index, build_sub, roster_of_sub

DATA = Path(__file__).resolve().parents[2] / "data" / "shift_scheduling"
LONG = time.monotonic() + 10**6


def compact_worker(number: int, seen: list[int]) -> tuple[LnsWorker, Incumbent]:
    problem = parse_problem_text((DATA / f"Instance{number}.txt").read_text())
    rm = build_model(problem, ModelFlags(flow=False, windows=False))
    inc = Incumbent(on_improve=lambda objective, source: seen.append(objective))
    worker = LnsWorker(rm, inc, 0, time.monotonic(), lambda m, r: add_hints(rm, r, m))
    worker.set_compact()
    worker.det_limit = 1.0  # work, not wall time
    assert inc.offer(problem, construct(problem, LONG, max_sweeps=0).roster, None, "c", 0.0)
    return worker, inc


def test_a_sub_model_that_must_differ_returns_another_valid_roster_of_at_most_the_objective(
) -> None:
    problem = parse_problem_text((DATA / "Instance5.txt").read_text())
    roster = construct(problem, LONG).roster  # a local optimum for one-member moves
    objective = check_roster(problem, roster).objective
    ix = Index(problem)
    table = ix.table(roster)
    free = {(e, d) for e in range(len(problem.staff)) for d in range(7, 11)}
    sub = build_sub(ix, table, free, objective, objective)
    assert must_differ(sub, table)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = 20.0
    assert solver.solve(sub.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    found = roster_of_sub(ix, sub, table, free, solver)
    report = check_roster(problem, found)
    assert found != roster and report.feasible
    assert report.objective == sub.offset + round(solver.objective_value) <= objective


def test_a_sideways_lns_improves_and_every_incumbent_and_plateau_roster_passes_the_checker(
) -> None:
    seen: list[int] = []
    worker, inc = compact_worker(8, seen)
    worker.sideways = 1.0
    plateau: list[int] = []
    original = worker._sideways

    def record(found: dict, best: int) -> None:
        original(found, best)
        report = check_roster(worker.rm.problem, found)
        assert report.feasible and report.objective == best
        plateau.append(best)

    worker._sideways = record  # type: ignore[method-assign]
    worker.run(LONG, max_steps=30)
    assert worker.steps == 30 and not inc.rejected
    assert len(seen) >= 2 and seen == sorted(seen, reverse=True) and seen[-1] < seen[0]
    assert plateau and worker.current is not None and worker.current[1] >= inc.objective
    report = check_roster(worker.rm.problem, inc.roster)
    assert report.feasible and report.objective == inc.objective == seen[-1]


def test_a_weekends_neighbourhood_frees_two_weekends_with_their_flanks() -> None:
    worker, inc = compact_worker(8, [])
    rm, problem = worker.rm, worker.rm.problem
    weekends = weekend_days(problem)
    rng = random.Random(3)
    for _ in range(20):
        free, typed = cells_to_free(rm, rng, 0.2, inc.roster, "weekends")
        members, days = {e for e, _ in free}, {d for _, d in free}
        assert not typed and len(free) == len(members) * len(days)
        assert len(members) == round(0.5 * len(problem.staff))
        whole = [w for w in weekends if set(w) <= days]
        assert len(whole) == 2 and all(min(w) - 1 in days or min(w) == 0 for w in whole)


def test_a_compact_lns_with_the_weekends_kind_improves_and_passes_the_checker() -> None:
    seen: list[int] = []
    worker, inc = compact_worker(8, seen)
    worker.add_kind("weekends")
    worker.arms = [Arm("weekends")]  # alone
    worker.run(LONG, max_steps=15)
    assert worker.steps == 15 and not inc.rejected and worker.arms[0].tries == 15
    assert worker.arms[0].gains == seen[0] - seen[-1] > 0
    report = check_roster(worker.rm.problem, inc.roster)
    assert report.feasible and report.objective == inc.objective
