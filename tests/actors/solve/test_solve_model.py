import logging
import threading
import time
from pathlib import Path

from actors.solve.checker import check_roster
from actors.solve.constraints import ModelFlags, build_model
from actors.solve.construct import construct
from actors.solve.model import _exact, _stalled, solve
from actors.solve.plan import Plan
from actors.solve.primal import second_lns
from actors.solve.reader import parse_problem_text
from actors.solve.schema import RosterProblem, SolveOptions, SolveProgress, SolveStatus
from actors.solve.search import Search

DATA = Path(__file__).resolve().parents[2] / "data" / "shift_scheduling"


def instance(number: int) -> RosterProblem:
    return parse_problem_text((DATA / f"Instance{number}.txt").read_text())


def test_instance_1_solves_to_the_published_optimum_607_and_the_checker_agrees() -> None:
    problem = instance(1)
    seen: list[SolveProgress] = []
    result = solve(problem, SolveOptions(time_limit_s=60, workers=2), on_progress=seen.append)
    assert result.status == SolveStatus.OPTIMAL
    assert result.objective == 607
    assert result.best_bound == 607
    report = check_roster(problem, result.assignments)
    assert report.feasible and report.objective == 607
    assert result.checked == report
    assert result.penalties.total == 607
    assert seen and seen[-1].objective == 607
    assert [p.objective for p in seen] == sorted((p.objective for p in seen), reverse=True)


def test_infeasible_problem_names_the_conflicting_constraint_groups() -> None:
    problem = RosterProblem.model_validate({
        "horizon": {"days": 14},
        "shifts": [{"id": "D", "length_minutes": 480}],
        "staff": [
            {"id": "A", "min_total_minutes": 480 * 5, "days_off": list(range(10))},
            {"id": "B", "max_weekends": 0, "min_total_minutes": 480},
        ],
        "cover": [{"day": d, "shift_id": "D", "requirement": 1} for d in range(14)],
    })
    result = solve(problem, SolveOptions(time_limit_s=10, workers=2))
    assert result.status == SolveStatus.INFEASIBLE
    assert sorted(result.conflicts) == ["staff A: days off", "staff A: min total minutes"]
    assert result.assignments is None


def test_should_stop_after_the_first_solution_keeps_a_checked_best_solution() -> None:
    problem = instance(5)
    found: list[SolveProgress] = []
    started = time.monotonic()
    result = solve(problem, SolveOptions(time_limit_s=60, workers=2),
                   on_progress=found.append, should_stop=lambda: bool(found))
    assert time.monotonic() - started < 20
    assert result.cancelled
    assert result.status in (SolveStatus.FEASIBLE, SolveStatus.OPTIMAL)
    assert result.checked is not None and result.checked.feasible
    assert check_roster(problem, result.assignments).objective == result.objective


def test_should_stop_is_polled_even_when_no_solution_arrives() -> None:
    result = solve(instance(8), SolveOptions(time_limit_s=60, workers=2),
                   should_stop=lambda: True)
    assert result.cancelled
    assert result.wall_time_s < 15
    if result.assignments is not None:
        assert result.checked.feasible


def test_previous_roster_as_hint_is_reported_as_a_first_solution_no_worse() -> None:
    problem = instance(2)
    first = solve(problem, SolveOptions(time_limit_s=3, workers=2))
    assert first.assignments is not None
    seen: list[SolveProgress] = []
    again = solve(problem, SolveOptions(time_limit_s=3, workers=2, hint=first.assignments),
                  on_progress=seen.append)
    assert seen[0].objective <= first.objective
    assert again.objective <= first.objective


def test_two_workers_prove_instance_3_optimal_at_the_published_1001() -> None:
    problem = instance(3)
    result = solve(problem, SolveOptions(time_limit_s=60, workers=2))
    assert result.status == SolveStatus.OPTIMAL
    assert result.objective == 1001 and result.best_bound == 1001 and result.gap == 0
    assert check_roster(problem, result.assignments).objective == 1001


def _search(problem: RosterProblem, flags: ModelFlags | None = None, on_progress=None) -> Search:
    return Search(problem, on_progress, time.monotonic(), build_model(problem, flags))


def test_a_stalled_bound_with_a_wide_gap_hands_the_exact_search_core_to_a_second_lns() -> None:
    problem = instance(5)
    search = _search(problem)
    assert not _stalled(search, stall_s=0.0)  # no incumbent yet
    built = construct(problem, time.monotonic() + 600, max_sweeps=0)  # the greedy roster only
    search.inc.offer(problem, built.roster, None, "construct", 0.0)
    first = search.inc.objective
    search.on_bound(first * 0.5)
    assert _stalled(search, stall_s=0.0) and not _stalled(search, stall_s=60.0)
    search.on_bound(first - 1)
    assert not _stalled(search, stall_s=0.0)  # the exact search is about to close the gap
    search.on_bound(first * 0.5)  # bounds only rise
    assert search.bound == first - 1
    search.bound = first * 0.5
    second_lns(search, Plan(colgen=False), 1, time.monotonic() + 4)
    assert search.inc.objective < first  # the greedy roster is far from optimal: any step wins
    assert check_roster(problem, search.inc.roster).objective == search.inc.objective


def test_a_cancelled_search_starts_no_second_lns() -> None:
    problem = instance(5)
    search = _search(problem)
    search.stopped = True
    started = time.monotonic()
    second_lns(search, Plan(), 1, started + 30)
    assert time.monotonic() - started < 3 and search.inc.roster is None


def test_the_exact_search_restarts_once_from_a_better_roster_and_takes_it_as_its_hint(
        caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="actors.solve.model")
    problem = instance(3)
    best = solve(problem, SolveOptions(time_limit_s=60, workers=2)).assignments
    weak = ModelFlags(flow=False, windows=False, redundant=False)  # its bound cannot prove 1001
    first_found = threading.Event()
    search = _search(problem, weak, lambda _: first_found.set())

    def offer_the_optimum() -> None:  # what a dive does: a better roster from elsewhere
        first_found.wait(30)
        search.inc.offer(search.rm, best, None, "dive", search.elapsed())
        search.restart_exact()
        search.restart_exact()  # once only

    helper = threading.Thread(target=offer_the_optimum)
    helper.start()
    _exact(search, SolveOptions(time_limit_s=6, workers=1), Plan(flags=weak), 1, None,
           time.monotonic() + 6, threading.Event())
    helper.join()
    assert caplog.text.count("exact search restarts from 1001") == 1
    assert search.exact_best == 1001  # its first solution after the restart is the hint
    assert search.inc.objective == 1001 and search.inc.source == "dive"


def test_the_exact_search_restricts_again_below_a_better_roster_and_then_proves_it() -> None:
    from ortools.sat.python import cp_model

    from actors.solve.colgen import CgState, ColumnPool, generate, make_pricers
    from actors.solve.fixing import reduced_cost_fixing
    from actors.solve.model import _restrict

    problem = instance(2)
    best = solve(problem, SolveOptions(time_limit_s=60, workers=2)).assignments
    pool = ColumnPool(problem)
    pool.add_roster(best)
    pricers = make_pricers(problem)
    root = generate(pool, pricers, time.monotonic() + 60, CgState()).solution
    search = _search(problem)
    search.exact_best = 900  # what the exact search had found itself
    search.inc.offer(search.rm, best, None, "dive", 0.0)
    assert search.inc.objective == 828
    added = []
    for ub in (840, 827):  # a first incumbent of 841, then the optimum
        fixing = reduced_cost_fixing(pool, pricers, root, ub)
        search.restart_exact(fixing)
        assert search.restart.is_set()
        before = len(search.rm.model.proto.constraints)
        _restrict(search)
        assert search.cap == ub + 1 and not search.restart.is_set()
        added.append(len(search.rm.model.proto.constraints) - before - len(fixing.banned))
    assert added == [len(problem.staff) + 1, 1]  # the cuts once, a cutoff each time
    search.restart_exact(reduced_cost_fixing(pool, pricers, root, 830))  # no tighter: no restart
    assert not search.restart.is_set() and search.restarts == 2
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 60
    assert solver.solve(search.rm.model) == cp_model.INFEASIBLE  # nothing below 828


def test_without_an_exact_search_the_solve_returns_the_constructions_checked_roster() -> None:
    problem = instance(4)
    result = solve(problem, SolveOptions(time_limit_s=600, workers=2),
                   plan=Plan(exact=False, lns=False, colgen=False))
    assert result.status == SolveStatus.FEASIBLE and result.time_to_first_s is not None
    assert result.checked.feasible and result.checked.objective == result.objective
    assert result.wall_time_s < 600  # it ends when the sweeps converge, not at the limit


def test_a_long_horizon_gets_a_roster_and_a_result_that_says_what_was_left_out() -> None:
    days = 120
    problem = RosterProblem.model_validate({
        "horizon": {"days": days},
        "shifts": [{"id": "D", "length_minutes": 480, "cannot_follow": ["N"]},
                   {"id": "N", "length_minutes": 480}],
        "staff": [{"id": f"E{i}", "max_consecutive_shifts": 5, "min_consecutive_shifts": 2,
                   "min_consecutive_days_off": 2, "max_weekends": 10,
                   "min_total_minutes": 480 * 60, "max_total_minutes": 480 * 80}
                  for i in range(6)],
        "cover": [{"day": d, "shift_id": s, "requirement": 2} for d in range(days)
                  for s in ("D", "N")],
    })
    result = solve(problem, SolveOptions(time_limit_s=600, workers=1))  # the construction only
    assert result.status == SolveStatus.FEASIBLE
    assert result.checked.feasible and result.checked.objective == result.objective
    assert any("no exact search" in n for n in result.notes)
    assert any("column generation" in n for n in result.notes)


def test_a_long_horizon_with_a_member_who_cannot_be_rostered_is_explained_as_infeasible() -> None:
    days = 120
    problem = RosterProblem.model_validate({
        "horizon": {"days": days},
        "shifts": [{"id": "D", "length_minutes": 480}],
        "staff": [{"id": "A", "max_consecutive_shifts": 5, "min_consecutive_days_off": 2,
                   "min_total_minutes": 480 * 100},  # 100 shifts: at most 5 in every 7 days
                  {"id": "B", "max_consecutive_shifts": 5}],
        "cover": [{"day": d, "shift_id": "D", "requirement": 1} for d in range(days)],
    })
    result = solve(problem, SolveOptions(time_limit_s=600, workers=2))
    assert result.status == SolveStatus.INFEASIBLE and result.assignments is None
    assert "staff A: min total minutes" in result.conflicts
    assert all(c.startswith("staff A") for c in result.conflicts)


def test_without_an_exact_search_the_second_thread_anneals_before_its_lns(caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.DEBUG, logger="actors.solve.sa_phase")
    problem = instance(5)
    greedy = construct(problem, time.monotonic() + 600, max_sweeps=0).roster
    result = solve(problem, SolveOptions(time_limit_s=6, workers=2, hint=greedy),  # a roster
                   plan=Plan(exact=False, colgen=False, anneal_end=0.5,  # from the start
                             anneal_batch=20_000))
    assert result.status == SolveStatus.FEASIBLE
    assert result.checked.feasible and result.checked.objective == result.objective
    assert sum(r.getMessage().startswith("annealing:") for r in caplog.records) == 1


def test_with_anneal_threads_2_the_primal_thread_anneals_too(caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.DEBUG, logger="actors.solve.sa_phase")
    problem = instance(5)
    greedy = construct(problem, time.monotonic() + 600, max_sweeps=0).roster
    result = solve(problem, SolveOptions(time_limit_s=6, workers=2, hint=greedy),
                   plan=Plan(exact=False, colgen=False, anneal_end=0.5, anneal_threads=2,
                             anneal_batch=20_000, construct_share=0.0))
    assert result.checked.feasible and result.checked.objective == result.objective
    assert sum(r.getMessage().startswith("annealing:") for r in caplog.records) == 2
