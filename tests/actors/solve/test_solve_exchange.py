import random
import time
from pathlib import Path

from actors.solve.checker import check_roster
from actors.solve.construct import construct
from actors.solve.exchange import Exchange
from actors.solve.reader import parse_problem_text

DATA = Path(__file__).resolve().parents[2] / "data" / "shift_scheduling"


def swept(number: int):
    """An instance and its construction's roster after the sweeps (a one-member optimum)."""
    problem = parse_problem_text((DATA / f"Instance{number}.txt").read_text())
    return problem, construct(problem, time.monotonic() + 10**6).roster


def test_a_chain_changes_the_roster_by_exactly_what_it_reports_and_keeps_it_valid() -> None:
    problem, roster = swept(8)
    objective = check_roster(problem, roster).objective
    exchange = Exchange(problem, max_calls=30)
    rng = random.Random(0)
    kept = 0
    for _ in range(25):  # bounded work: 25 chains of at most 30 DP calls
        change = exchange.step(roster, rng)
        assert exchange.calls <= 30 + 2 * len(exchange.beams)  # (one last link may finish)
        after = exchange.roster()
        report = check_roster(problem, after)
        assert report.feasible, report.violations[:3]
        if change < 0:
            assert report.objective == round(objective + change) < objective
            roster, objective, kept = after, report.objective, kept + 1
        else:
            assert change == 0 and report.objective == objective and after == roster
    assert kept >= 1  # the sweeps' optimum is not one for chains of members


def test_a_chain_is_pushed_onto_a_short_row_and_tries_members_without_a_new_weekend_first(
        ) -> None:
    problem, roster = swept(8)
    exchange = Exchange(problem, branch=1000)
    exchange.load(roster)
    cover = exchange.cover
    short = [r for r in range(len(cover.req)) if cover.count[r] < cover.req[r]]
    assert short
    takers = exchange._takers(short[0], random.Random(0), exclude=())
    d, s = cover.cell[short[0]]
    assert takers and all(exchange.cols[e][d] != s for e in takers)
    flags = [exchange._new_weekend(exchange.pricers[e].rules, exchange.cols[e], d)
             for e in takers]
    assert flags == sorted(flags)  # those who would need one more weekend come last
