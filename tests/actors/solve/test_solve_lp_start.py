"""Annealing's second start from the column-generation LP (``Plan.lp_anneal``, lp_start.py):
the rounding, and the phase that anneals from it."""

import time

import pytest

import actors.solve.lp_start as lp_start
from actors.solve.anneal import Annealer
from actors.solve.checker import check_roster
from actors.solve.colgen import LpSolution, columns_of
from actors.solve.plan import Plan
from actors.solve.search import Search
from tests.actors.solve.test_solve_anneal import instance
from tests.actors.solve.test_solve_anneal_phase import started


@pytest.mark.parametrize("number", [3, 4])
def test_the_rounding_puts_every_member_on_their_heaviest_schedule_in_the_lp(
        number: int) -> None:
    problem = instance(number)
    search, _ = started(problem)
    rounding, state = lp_start.lp_rounding(problem, search.inc.roster, time.monotonic() + 600)
    assert state.converged and state.solution is not None and rounding is not None
    assert check_roster(problem, rounding).feasible  # (every column is its member's schedule)
    for e, col in enumerate(columns_of(problem, rounding)):
        weights = state.solution.chosen[e]
        assert weights[col] == max(weights.values())
    if all(max(w.values()) >= 0.999 for w in state.solution.chosen):  # a whole LP: its roster
        assert check_roster(problem, rounding).objective == round(state.lp)


def test_a_member_the_lp_gives_nothing_keeps_their_schedule() -> None:
    problem = instance(2)
    search, _ = started(problem)
    sol = lp_start.lp_rounding(problem, search.inc.roster, time.monotonic() + 600)[1].solution
    assert sol is not None
    blank = LpSolution(sol.value, sol.conv, sol.cover, [{}] + sol.chosen[1:])
    rounding = lp_start.rounded(problem, blank, search.inc.roster)
    first = problem.staff[0].id
    assert rounding[first] == search.inc.roster[first]


def test_the_phase_anneals_from_the_lp_rounding_and_marks_what_it_offers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    problem = instance(4)
    search, greedy = started(problem)
    roundings, starts = [], []
    real_rounded, real_init = lp_start.rounded, Annealer.__init__

    def rounded(*args: object) -> dict:
        roundings.append(real_rounded(*args))  # type: ignore[arg-type]
        return roundings[-1]

    def init(ann: Annealer, prob: object, roster: dict, *args: object) -> None:
        starts.append(roster)
        real_init(ann, prob, roster, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(lp_start, "rounded", rounded)
    monkeypatch.setattr(Annealer, "__init__", init)
    batches = [0]
    real_run = Annealer.run

    def run(ann: Annealer, *args: object) -> int:  # two batches of work, then the search ends
        batches[0] += 1
        search.stopped = batches[0] >= 2
        return real_run(ann, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Annealer, "run", run)
    plan = Plan(lp_anneal=0.5, lp_anneal_end=1.0, anneal_batch=20_000)
    lp_start.lp_anneal_phase(search, plan, 3, 10**6)  # (the LP converges long before)
    assert len(roundings) == 1 and starts == roundings and batches[0] == 2
    assert search.inc.objective <= greedy
    if search.inc.objective < greedy:
        assert search.inc.source == "lp anneal"


def test_a_cancelled_search_or_one_without_a_roster_builds_no_lp_and_does_not_wait(
        monkeypatch: pytest.MonkeyPatch) -> None:
    problem = instance(4)

    def waited(seconds: float) -> None:
        raise AssertionError(f"a cancelled search waited {seconds} s")

    monkeypatch.setattr(time, "sleep", waited)
    monkeypatch.setattr(lp_start, "lp_rounding", lambda *a: pytest.fail("an LP was built"))
    for search in (Search(problem, None, time.monotonic()), started(problem)[0]):
        search.stopped = True
        lp_start.lp_anneal_phase(search, Plan(lp_anneal=0.5), 3, 10**6)
    unbuilt = Search(problem, None, time.monotonic())  # (the construction found no roster)
    lp_start.lp_anneal_phase(unbuilt, Plan(lp_anneal=0.5), 3, 10**6)
    assert unbuilt.inc.roster is None


@pytest.mark.parametrize(("lp_anneal", "threads", "phases"), [
    (0.4, 1, ["lp"]), (0.0, 1, []), (0.4, 2, ["anneal"])])
def test_the_primal_thread_takes_the_lp_start_only_where_the_plan_puts_it(
        monkeypatch: pytest.MonkeyPatch, lp_anneal: float, threads: int,
        phases: list[str]) -> None:
    import actors.solve.primal as primal_module
    from actors.solve.schema import SolveOptions

    problem = instance(4)
    search, _ = started(problem)
    calls: list[str] = []
    real_worker = primal_module.lns_worker

    def worker(*args: object) -> object:  # the LNS is built, then the search ends (no clock)
        search.stopped = True
        return real_worker(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(primal_module, "lns_worker", worker)
    monkeypatch.setattr(primal_module, "lp_anneal_phase", lambda *a: calls.append("lp"))
    monkeypatch.setattr(primal_module, "anneal_phase", lambda *a: calls.append("anneal"))
    plan = Plan(exact=False, colgen=False, anneal_end=0.6, anneal_threads=threads,
                lp_anneal=lp_anneal)
    primal_module.primal(search, plan, SolveOptions(time_limit_s=60, workers=2),
                         time.monotonic() + 60, with_lns=True)
    assert calls == phases
