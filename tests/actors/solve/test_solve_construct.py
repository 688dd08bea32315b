import time
from pathlib import Path

import pytest

from actors.solve.checker import check_roster
from actors.solve.colgen import make_pricers
from actors.solve.construct import best_responses, construct, repaired
from actors.solve.reader import parse_problem_text
from actors.solve.schema import RosterProblem

DATA = Path(__file__).resolve().parents[2] / "data" / "shift_scheduling"
NO_DEADLINE = 10**6  # the work is bounded by the sweeps, not by a clock


def instance(number: int) -> RosterProblem:
    return parse_problem_text((DATA / f"Instance{number}.txt").read_text())


@pytest.mark.parametrize("number", [1, 4, 8, 9, 10])
def test_the_construction_gives_a_checker_valid_roster_and_only_ever_improves_it(
        number: int) -> None:
    problem = instance(number)
    seen: list[tuple[int, int]] = []

    def record(roster, objective: int) -> None:
        report = check_roster(problem, roster)
        assert report.feasible and report.objective == objective
        seen.append(objective)

    built = construct(problem, time.monotonic() + NO_DEADLINE, on_roster=record)
    assert built.roster is not None and not built.infeasible
    assert built.objective == seen[-1] == check_roster(problem, built.roster).objective
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen)
    assert built.sweeps >= 1


def test_sweeps_end_at_a_roster_no_single_member_can_improve() -> None:
    problem = instance(4)
    built = construct(problem, time.monotonic() + NO_DEADLINE)
    again = construct(problem, time.monotonic() + NO_DEADLINE, max_sweeps=0)
    assert again.objective >= built.objective  # the greedy roster alone is no better
    assert built.sweeps < 50  # converged: the last sweep changed nothing


@pytest.mark.parametrize("number", [4, 8])
def test_best_response_sweeps_from_a_roster_lower_it_until_none_can_and_stay_valid(
        number: int) -> None:
    problem = instance(number)
    greedy = construct(problem, time.monotonic() + NO_DEADLINE, max_sweeps=0)
    pricers = make_pricers(problem)
    roster, objective, sweeps = greedy.roster, greedy.objective, 0
    while (found := best_responses(problem, roster, pricers, (4,), 0, sweeps,
                                   time.monotonic() + NO_DEADLINE)) is not None:
        report = check_roster(problem, found)
        assert report.feasible and report.objective < objective
        roster, objective, sweeps = found, report.objective, sweeps + 1
    assert 0 < sweeps < 50  # it improved the greedy roster, then converged
    swept = construct(problem, time.monotonic() + NO_DEADLINE)
    assert objective <= greedy.objective and swept.objective <= greedy.objective
    assert best_responses(problem, roster, pricers, (4,), 0, 99,
                          time.monotonic() + NO_DEADLINE) is None  # a one-member optimum


def test_a_narrow_beam_with_few_shift_types_still_gives_valid_rosters() -> None:
    problem = instance(10)  # 5 shift types
    built = construct(problem, time.monotonic() + NO_DEADLINE, first_beams=(1, 2),
                      sweep_beams=(1,), type_limit=1, max_sweeps=2)
    assert built.roster is not None
    assert check_roster(problem, built.roster).feasible


def test_a_member_without_any_valid_schedule_is_named_as_infeasible() -> None:
    problem = RosterProblem.model_validate({
        "horizon": {"days": 14},
        "shifts": [{"id": "D", "length_minutes": 480}],
        "staff": [
            {"id": "A", "min_total_minutes": 480 * 5, "days_off": list(range(10))},
            {"id": "B"},
        ],
        "cover": [{"day": d, "shift_id": "D", "requirement": 1} for d in range(14)],
    })
    built = construct(problem, time.monotonic() + NO_DEADLINE)
    assert built.roster is None and built.infeasible == ["A"]


def test_a_deadline_already_past_gives_no_roster_and_returns_at_once() -> None:
    started = time.monotonic()
    built = construct(instance(8), started - 1)
    assert built.roster is None and not built.infeasible


def test_the_constructions_own_objective_count_is_the_checkers() -> None:
    from actors.solve.colgen import columns_of
    from actors.solve.construct import _Cover

    problem = instance(9)
    built = construct(problem, time.monotonic() + NO_DEADLINE)
    cover = _Cover(problem)
    cols = columns_of(problem, built.roster)
    for e, col in enumerate(cols):
        cover.move(e, col, 1)
    assert cover.penalty(cols) == check_roster(problem, built.roster).objective


def test_kicks_only_ever_hand_on_better_valid_rosters() -> None:
    problem = instance(5)
    seen: list[int] = []

    def record(roster, objective: int) -> None:
        assert check_roster(problem, roster).objective == objective
        seen.append(objective)

    started = time.monotonic()
    built = construct(problem, started + NO_DEADLINE, sweep_until=started + 2, kicks=True,
                      on_roster=record)
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen)
    assert built.objective == seen[-1]


def test_sweeps_adopt_a_better_roster_found_elsewhere_and_go_on_from_it() -> None:
    problem = instance(8)
    best = construct(problem, time.monotonic() + NO_DEADLINE)
    offered: list[int] = []

    def adopt(objective: int):
        offered.append(objective)
        return best.roster if objective > best.objective else None

    seen: list[int] = []
    built = construct(problem, time.monotonic() + NO_DEADLINE, seed=1, adopt=adopt,
                      on_roster=lambda roster, objective: seen.append(objective))
    assert offered and offered[0] == seen[0] > best.objective  # the greedy roster, then ...
    assert built.objective is not None and built.objective <= best.objective
    report = check_roster(problem, built.roster)
    assert report.feasible and report.objective == built.objective


def broken(problem: RosterProblem, roster: dict, member: int) -> dict:
    """``roster`` with ``member`` working their first fixed day off (a rule broken)."""
    staff = problem.staff[member]
    out = {k: list(v) for k, v in roster.items()}
    out[staff.id][staff.days_off[0]] = problem.shifts[0].id
    return out


def test_a_repair_replans_only_the_members_who_break_rules_and_gives_a_valid_roster() -> None:
    problem = instance(4)
    roster = construct(problem, time.monotonic() + NO_DEADLINE, max_sweeps=0).roster
    members = [e for e, st in enumerate(problem.staff) if st.days_off][:2]
    bad = broken(problem, broken(problem, roster, members[0]), members[1])
    assert not check_roster(problem, bad).feasible
    fixed = repaired(problem, bad, members, make_pricers(problem), (4,), 0, 0)
    assert fixed is not None and check_roster(problem, fixed).feasible
    for e, st in enumerate(problem.staff):
        if e not in members:
            assert fixed[st.id] == bad[st.id]
        else:
            assert fixed[st.id][st.days_off[0]] is None


def each_member_against_the_rest(number: int):  # noqa: ANN201 - a generator of tuples
    """Every member of the instance's greedy roster in turn: their pricer, their cell weights
    against everyone else and their schedule."""
    from actors.solve.construct import _adopt, _Cover

    problem = instance(number)
    greedy = construct(problem, time.monotonic() + NO_DEADLINE, max_sweeps=0)
    pricers = make_pricers(problem)
    cover = _Cover(problem)
    cols = _adopt(problem, cover, greedy.roster)
    for e, col in enumerate(cols):
        cover.move(e, col, -1)
        yield pricers[e], cover.weights(e), col
        cover.move(e, col, 1)


@pytest.mark.parametrize(("number", "type_limit"), [(8, 0), (9, 0), (9, 2)])
def test_a_sweep_bounded_by_each_members_current_cost_finds_what_the_unbounded_dp_finds(
        number: int, type_limit: int) -> None:
    from actors.solve.construct import _best, _cost

    cheaper = members = 0
    for pricer, w, col in each_member_against_the_rest(number):
        members += 1
        now = _cost(w, col)
        # the oracle: the exact DP, no bound (with a type limit: the best in the member's
        # narrowed types, which hold their current schedule's)
        free, _ = _best(pricer, w, (0,), 0, 1.0, type_limit, keep=col)
        bounded, none = _best(pricer, w, (0,), 0, 1.0, type_limit, keep=col,
                              below=now - 1e-9)
        assert not none  # nothing cheaper is not "no valid schedule"
        if _cost(w, free) < now - 1e-9:
            assert bounded is not None and _cost(w, bounded) == pytest.approx(_cost(w, free))
            cheaper += 1
        else:
            assert bounded is None
    assert 0 < cheaper < members  # both outcomes were met


def spans_searched(pricer, *args, **kwargs) -> list:  # noqa: ANN001, ANN002, ANN003
    """The ``allowed`` cells of every DP that ``_best(pricer, ...)`` runs."""
    from actors.solve.construct import _best

    spans: list = []
    real = pricer.price_matrix

    def recording(*a, **k):  # noqa: ANN002, ANN003, ANN202
        spans.append(k["allowed"])
        return real(*a, **k)

    pricer.price_matrix = recording
    try:
        _best(pricer, *args, **kwargs)
    finally:
        del pricer.price_matrix
    return spans


def test_a_bounded_re_plan_searches_only_the_narrowed_types_that_hold_the_current_schedule(
        ) -> None:
    from actors.solve.construct import _cost, _types

    narrowed = 0
    for pricer, w, col in each_member_against_the_rest(9):
        narrow = _types(pricer, w, 2, col)
        if narrow is not None:
            narrowed += 1
            spans = spans_searched(pricer, w, (0,), 0, 1.0, 2, keep=col,
                                   below=_cost(w, col) - 1e-9)
            assert spans and all(s is not None and (s == narrow).all() for s in spans)
    assert narrowed  # the case was met
