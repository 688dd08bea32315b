"""A walk that breaks rules below its best valid roster is repaired by best response, and the
annealer goes on from the repaired roster (sa_phase.Repairs)."""

import time
from pathlib import Path

from actors.solve.anneal import Annealer
from actors.solve.checker import check_roster
from actors.solve.construct import construct
from actors.solve.plan import Plan
from actors.solve.reader import parse_problem_text
from actors.solve.sa_phase import Repairs

DATA = Path(__file__).resolve().parents[2] / "data" / "shift_scheduling"
LONG = time.monotonic() + 10**6


def greedy_annealer(number: int) -> Annealer:
    problem = parse_problem_text((DATA / f"Instance{number}.txt").read_text())
    built = construct(problem, LONG, max_sweeps=0)
    assert built.roster is not None
    return Annealer(problem, built.roster)


def due_now() -> Repairs:
    """Repairs whose first is due at once (the phase began a second ago, one every 1 ms)."""
    return Repairs(Plan(anneal_repair=0.001), 0, time.monotonic() - 1.0, 1.0)


def test_a_walk_that_breaks_rules_below_the_best_restarts_from_its_repair() -> None:
    ann = greedy_annealer(4)
    before = ann.best_objective
    ann.run(20_000, 1.0, 1.0, 50.0, 1)  # rules cheap (50 a step): the walk breaks them
    assert ann.violations > 0 and ann.objective < ann.best_objective
    repairs = due_now()
    assert repairs.maybe(ann) and repairs.kept == 1
    assert ann.violations == 0  # the walk is the repaired roster, which is the best
    report = check_roster(ann.problem, ann.best_roster())
    assert report.feasible and report.objective == ann.best_objective < before
    assert check_roster(ann.problem, ann.roster()).feasible


def test_a_walk_without_broken_rules_or_not_below_the_best_is_left_alone() -> None:
    ann = greedy_annealer(4)
    walk = ann.x.copy()
    assert not due_now().maybe(ann)  # (valid: nothing to repair)
    assert (ann.x == walk).all()
    ann.run(20_000, 1.0, 1.0, 50.0, 1)
    assert not Repairs(Plan(anneal_repair=0.0), 0, time.monotonic() - 1.0, 1.0).maybe(ann)
    assert ann.violations > 0  # (off: the walk keeps its broken rules)
