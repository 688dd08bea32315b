"""Annealing can start from every member's own best schedule for their shift requests
(``Plan.anneal_from = "requests"``, sa_phase.asked_roster) instead of the construction's."""

import logging
import time
from pathlib import Path

import pytest

from actors.solve.anneal import Annealer
from actors.solve.checker import check_roster
from actors.solve.colgen import ColumnPool, Pricer, columns_of, make_pricers
from actors.solve.construct import construct
from actors.solve.plan import ASKED_MAX_DAYS, Plan, make_plan
from actors.solve.pricing import DpPricer
from actors.solve.reader import parse_problem_text
from actors.solve.sa_phase import anneal_phase, asked_roster
from actors.solve.schema import RosterProblem, SolveOptions
from actors.solve.search import Search

DATA = Path(__file__).resolve().parents[2] / "data" / "shift_scheduling"
LONG = time.monotonic() + 10**6


def instance(number: int) -> RosterProblem:
    return parse_problem_text((DATA / f"Instance{number}.txt").read_text())


def greedy(problem: RosterProblem) -> dict:
    built = construct(problem, LONG, max_sweeps=0)
    assert built.roster is not None
    return built.roster


def kept_most(problem: RosterProblem, pool: ColumnPool, e: int) -> float:
    """The oracle: the least request penalty any valid schedule of member ``e`` pays, by
    CP-SAT on the member's own rules with the requests' weights alone."""
    _, low, optimal = Pricer(problem, e).price(pool.weights(e, [0.0] * len(problem.cover)),
                                               10.0, 0)
    assert optimal
    return low + sum(pool.staff[e].on.values())


@pytest.mark.parametrize("number", [4, 7])
def test_every_member_keeps_as_many_requests_as_any_valid_schedule_of_theirs_can(
        number: int) -> None:
    problem = instance(number)
    start = greedy(problem)
    asked = asked_roster(problem, make_pricers(problem), start)
    assert check_roster(problem, asked).feasible  # (every rule is a member's own)
    pool = ColumnPool(problem)
    mine, theirs = columns_of(problem, asked), columns_of(problem, start)
    for e in range(len(problem.staff)):
        assert pool.staff[e].cost(mine[e]) == pytest.approx(kept_most(problem, pool, e),
                                                            abs=0.05)
        assert pool.staff[e].cost(mine[e]) <= pool.staff[e].cost(theirs[e])
    before = check_roster(problem, start).penalties
    after = check_roster(problem, asked).penalties
    assert (after.shift_on_requests + after.shift_off_requests
            < before.shift_on_requests + before.shift_off_requests)


def test_where_cp_sat_prices_the_cheapest_schedule_it_found_is_taken() -> None:
    problem = instance(2)
    odd = [sh.model_copy(update={"length_minutes": 480 + i})
           for i, sh in enumerate(problem.shifts)]
    fine = problem.model_copy(update={"shifts": odd})  # minutes too fine for the DP
    pricers = make_pricers(fine)
    assert not any(isinstance(p, DpPricer) for p in pricers)
    nobody = {st.id: [None] * fine.horizon.days for st in fine.staff}
    asked = asked_roster(fine, pricers, nobody)
    assert check_roster(fine, asked).feasible
    pool = ColumnPool(fine)
    for e, col in enumerate(columns_of(fine, asked)):
        assert pool.staff[e].cost(col) == pytest.approx(kept_most(fine, pool, e), abs=0.05)


def test_a_member_without_any_valid_schedule_keeps_the_fallback_one() -> None:
    problem = instance(1)
    start = greedy(problem)
    st = problem.staff[0]
    stuck = st.model_copy(update={"days_off": list(range(problem.horizon.days)),
                                  "min_total_minutes": 60})  # nothing valid is left to them
    broken = problem.model_copy(update={"staff": [stuck, *problem.staff[1:]]})
    asked = asked_roster(broken, make_pricers(broken), start)
    assert asked[st.id] == start[st.id]
    assert any(asked[s.id] != start[s.id] for s in problem.staff[1:])


def test_the_plan_starts_annealing_from_the_requests_up_to_its_horizon_only() -> None:
    options = SolveOptions(time_limit_s=60, workers=2)
    short = instance(1)
    assert short.horizon.days <= ASKED_MAX_DAYS
    assert make_plan(short, options).anneal_from == "requests"
    assert make_plan(short, options, Plan(anneal_from="incumbent")).anneal_from == "incumbent"
    longer = short.model_copy(update={"horizon": short.horizon.model_copy(
        update={"days": ASKED_MAX_DAYS + 7})})
    assert make_plan(longer, options).anneal_from == "incumbent"
    assert Plan().with_overrides({"anneal_from": "requests"}).anneal_from == "requests"


def test_the_phase_anneals_from_the_requests_roster_and_offers_only_valid_rosters(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG, logger="actors.solve.sa_phase")
    problem = instance(4)
    search = Search(problem, None, time.monotonic())
    start = greedy(problem)
    search.inc.offer(problem, start, None, "construct", 0.0)
    starts: list[dict] = []
    real_reset, real_run, done = Annealer.reset, Annealer.run, [0]

    def reset(ann: Annealer, roster: dict) -> None:
        starts.append(roster)
        real_reset(ann, roster)

    def run(ann: Annealer, *args: object) -> int:  # it ends on work done, not on a clock
        done[0] += 1
        search.stopped = done[0] >= 20
        return real_run(ann, *args)

    monkeypatch.setattr(Annealer, "reset", reset)
    monkeypatch.setattr(Annealer, "run", run)
    anneal_phase(search, Plan(anneal_from="requests", anneal_batch=20_000), 1,
                 time.monotonic() + 600)
    assert starts[0] == asked_roster(problem, make_pricers(problem), start)
    report = check_roster(problem, search.inc.roster)
    assert report.feasible and report.objective == search.inc.objective
    assert "own best schedules for their requests" in caplog.text
