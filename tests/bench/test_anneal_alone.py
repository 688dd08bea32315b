"""``bench/anneal_alone.py --lp-start``: the rounding it anneals from is a valid roster of the
members' LP schedules."""

from __future__ import annotations

from pathlib import Path

from actors.solve.checker import check_roster
from actors.solve.colgen import columns_of
from actors.solve.construct import construct
from actors.solve.reader import parse_problem_text
from bench.anneal_alone import lp_rounded

DATA = Path(__file__).resolve().parents[1] / "data" / "shift_scheduling"


def test_the_lp_start_is_a_valid_roster_that_moves_members_off_the_greedy_schedules() -> None:
    problem = parse_problem_text((DATA / "Instance4.txt").read_text())
    greedy = construct(problem, deadline=float("inf"), max_sweeps=0).roster
    assert greedy is not None
    start = lp_rounded(problem, greedy, 600.0)  # (converges in well under a second of work)
    assert check_roster(problem, start).feasible
    moved = sum(a != b for a, b in zip(columns_of(problem, start), columns_of(problem, greedy),
                                       strict=True))
    assert moved > 0
    assert check_roster(problem, start).objective < check_roster(problem, greedy).objective
