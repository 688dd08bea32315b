import random
from dataclasses import replace
from pathlib import Path

import pytest

from actors.solve.checker import check_roster
from actors.solve.colgen import ColumnPool, Pricer, make_pricers
from actors.solve.pricing import DpPricer, dp_supported
from actors.solve.reader import parse_problem_text
from actors.solve.schema import RosterProblem

DATA = Path(__file__).resolve().parents[2] / "data" / "shift_scheduling"
SCALE_SLACK = 1e-3  # CP-SAT prices weights x 1000 rounded down: per worked cell at most this


def instance(number: int) -> RosterProblem:
    return parse_problem_text((DATA / f"Instance{number}.txt").read_text())


def alone(problem: RosterProblem, e: int, col: tuple[int, ...]) -> list:
    """The checker's violations of member ``e`` working ``col`` (cover dropped)."""
    st = problem.staff[e]
    single = problem.model_copy(update={"staff": [st], "cover": [], "shift_on_requests": [],
                                        "shift_off_requests": []})
    roster = {st.id: [None if s < 0 else problem.shifts[s].id for s in col]}
    return check_roster(single, roster).violations


def random_weights(problem: RosterProblem, e: int, rng: random.Random) -> dict:
    duals = [rng.uniform(-1, 100) for _ in problem.cover]
    return ColumnPool(problem).weights(e, duals)


def cost(weights: dict, col: tuple[int, ...]) -> float:
    return sum(weights.get((d, s), 0.0) for d, s in enumerate(col) if s >= 0)


@pytest.mark.parametrize("number", [4, 7, 8])
def test_the_dynamic_program_prices_every_member_as_cp_sat_does(number: int) -> None:
    problem = instance(number)
    rng = random.Random(number)
    for e in range(len(problem.staff)):
        weights = random_weights(problem, e, rng)
        cols, low, exact = DpPricer(problem, e).price(weights)
        _, cp_low, cp_optimal = Pricer(problem, e).price(weights, 10.0, 0)
        assert exact and cp_optimal and cols
        assert cost(weights, cols[0]) == pytest.approx(low)
        assert cp_low - 1e-9 <= low <= cp_low + SCALE_SLACK * problem.horizon.days
        for col in cols:  # every column it returns is a valid schedule, cheapest first
            assert alone(problem, e, col) == []
        assert [cost(weights, c) for c in cols] == sorted(cost(weights, c) for c in cols)


def test_a_binding_per_type_maximum_is_respected_though_counters_start_untracked() -> None:
    problem = instance(8)
    e = next(i for i, st in enumerate(problem.staff) if st.max_shifts.get("N") == 4)
    n = next(s for s, sh in enumerate(problem.shifts) if sh.id == "N")
    weights = {(d, n): -100.0 for d in range(problem.horizon.days)}  # nights pay most
    pricer = DpPricer(problem, e)
    cols, low, _ = pricer.price(weights)
    assert sum(1 for s in cols[0] if s == n) == 4 and alone(problem, e, cols[0]) == []
    assert low == pytest.approx(-400.0)
    assert pricer.tracked.any()  # the counter it needed, kept: its maximum is reached
    _, cp_low, _ = Pricer(problem, e).price(weights, 10.0, 0)
    assert cp_low == pytest.approx(low)
    days_off = {(d, n): 100.0 for d in range(problem.horizon.days)}  # nights cost: no cap binds
    cols, _, _ = pricer.price(days_off)
    assert not pricer.tracked.any() and n not in cols[0]  # a best schedule below it drops it


def test_a_member_with_no_valid_schedule_gets_no_column() -> None:
    problem = instance(1)
    st = problem.staff[0].model_copy(update={"days_off": list(range(problem.horizon.days))})
    broken = problem.model_copy(update={"staff": [st, *problem.staff[1:]]})
    assert st.min_total_minutes > 0
    assert DpPricer(broken, 0).price({}) == ([], float("inf"), True)


def test_minutes_in_very_fine_units_fall_back_to_cp_sat_pricing() -> None:
    problem = instance(2)
    odd = [sh.model_copy(update={"length_minutes": 480 + i}) for i, sh in
           enumerate(problem.shifts)]
    fine = problem.model_copy(update={"shifts": odd})
    assert dp_supported(problem) and not dp_supported(fine)
    assert all(isinstance(p, DpPricer) for p in make_pricers(problem))
    assert not any(isinstance(p, DpPricer) for p in make_pricers(fine))


def test_shifts_with_the_same_successors_share_labels_and_the_optimum_is_unchanged() -> None:
    problem = instance(10)  # five shift types, two of them with the same successors
    rng = random.Random(10)
    for e in range(0, len(problem.staff), 3):
        pricer = DpPricer(problem, e)
        assert len(set(pricer.rules.klass.tolist())) < pricer.shifts
        weights = random_weights(problem, e, rng)
        cols, low, exact = pricer.price(weights)
        apart = DpPricer(problem, e)
        apart.rules = replace(apart.rules, klass=apart.identity)  # every shift its own label
        _, low_apart, _ = apart.price(weights)
        assert exact and cols and low == pytest.approx(low_apart)
        assert cost(weights, cols[0]) == pytest.approx(low)
        assert all(alone(problem, e, col) == [] for col in cols)


@pytest.mark.parametrize("number", [7, 8, 10])
def test_a_price_threshold_drops_only_schedules_that_cannot_cost_less_than_it(
        number: int) -> None:
    problem = instance(number)
    rng = random.Random(100 + number)
    for e in range(0, len(problem.staff), 2):
        weights = random_weights(problem, e, rng)
        cols, low, _ = DpPricer(problem, e).price(weights)
        costs = [cost(weights, c) for c in cols]
        for below in (low - 1.0, low, (low + costs[-1]) / 2, costs[-1] + 1e-6):
            kept, kept_low, exact = DpPricer(problem, e).price(weights, below=below)
            if below <= low:  # nothing costs less: the threshold itself is the bound
                assert (kept, kept_low, exact) == ([], below, True)
                continue
            assert exact and kept_low == pytest.approx(low)  # the optimum is never dropped
            assert [cost(weights, c) for c in kept] == pytest.approx(
                [c for c in costs if c < below])  # the same cheapest schedules, cut at below
            assert all(alone(problem, e, col) == [] for col in kept)
