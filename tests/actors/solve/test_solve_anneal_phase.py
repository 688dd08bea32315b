"""The annealing phase (``sa_phase.anneal_phase``): its clock-following temperatures, what it
offers the incumbent, the best-response sweeps inside it and their share of the phase, the
falling shaping cost, and a cancelled search (which neither waits nor anneals)."""

import inspect
import time

import pytest

import actors.solve.construct as construct_module
from actors.solve.anneal import Annealer
from actors.solve.checker import check_roster
from actors.solve.construct import construct
from actors.solve.plan import Plan
from actors.solve.sa_phase import anneal_phase, temperature
from actors.solve.schema import RosterProblem
from actors.solve.search import Search
from tests.actors.solve.test_solve_anneal import LONG, instance


def test_the_temperature_falls_from_the_first_to_the_last_over_the_phase() -> None:
    plan = Plan(anneal_t0=8.0, anneal_t1=0.5)
    assert temperature(plan, 0.0) == pytest.approx(8.0)
    assert temperature(plan, 1.0) == pytest.approx(0.5)
    assert temperature(plan, 0.5) == pytest.approx(2.0)
    assert temperature(plan, 2.0) == pytest.approx(0.5)  # clamped past the end


def started(problem: RosterProblem) -> tuple[Search, int]:
    """A search whose incumbent is the construction's greedy roster, and its objective."""
    search = Search(problem, None, time.monotonic())
    built = construct(problem, LONG, max_sweeps=0)
    search.inc.offer(problem, built.roster, None, "construct", 0.0)
    return search, built.objective


def test_the_phase_offers_better_checked_rosters_to_the_incumbent() -> None:
    problem = instance(5)
    search, greedy = started(problem)
    inner = search.inc.on_improve

    def stop_at_first_annealed(objective: int, source: str) -> None:
        if inner is not None:
            inner(objective, source)
        search.stopped = search.stopped or source == "anneal"

    search.inc.on_improve = stop_at_first_annealed  # it ends on work done, not on a clock
    anneal_phase(search, Plan(anneal_batch=20_000), 1, time.monotonic() + 600)
    assert search.inc.objective < greedy and search.inc.source == "anneal"
    assert check_roster(problem, search.inc.roster).objective == search.inc.objective
    assert not search.inc.rejected


def _sweeping_phase(plan: Plan, batches: int, monkeypatch: pytest.MonkeyPatch
                    ) -> tuple[RosterProblem, Search]:
    """Instance 8's greedy roster annealed by ``plan`` for ``batches`` batches (it ends on
    work done, not on a clock); patch what to watch before calling."""
    problem = instance(8)
    search, _ = started(problem)
    real_run, done = Annealer.run, [0]

    def run(ann: Annealer, *args: object) -> int:
        done[0] += 1
        search.stopped = done[0] >= batches
        return real_run(ann, *args)

    monkeypatch.setattr(Annealer, "run", run)
    anneal_phase(search, plan, 1, time.monotonic() + 600)
    return problem, search


def test_the_phase_anneals_on_from_a_best_response_sweep_that_beats_its_best(
        monkeypatch: pytest.MonkeyPatch) -> None:
    plan = Plan(anneal_batch=200, anneal_sweep_every=1e-9, anneal_t0=0.01, anneal_t1=0.01)
    resets: list[tuple[int, int]] = []  # (the annealer's best, the sweep's roster)
    real_reset = Annealer.reset

    def reset(ann: Annealer, roster: dict) -> None:  # (records, then resets for real)
        before = ann.best_objective if hasattr(ann, "state") else -1
        resets.append((before, check_roster(ann.problem, roster).objective))
        real_reset(ann, roster)

    monkeypatch.setattr(Annealer, "reset", reset)
    problem, search = _sweeping_phase(plan, 8, monkeypatch)
    swept = resets[1:]  # (the first is the annealer's start)
    assert swept and all(after < before for before, after in swept)
    assert [after for _, after in swept] == sorted((a for _, a in swept), reverse=True)
    assert search.inc.objective <= swept[-1][1] and not search.inc.rejected
    assert check_roster(problem, search.inc.roster).objective == search.inc.objective


@pytest.mark.parametrize("cap", [0.0, 0.5])
def test_a_sweep_may_take_its_share_of_the_phase_and_no_more(
        cap: float, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = Plan(anneal_batch=200, anneal_sweep_every=1e-9, anneal_sweep_cap=cap,
                anneal_t0=0.01, anneal_t1=0.01)
    sweeps: list[tuple[float, float, int]] = []  # (its deadline, when it began, re-plans)
    real_sweep = construct_module._sweep

    def sweep(*args: object) -> int:  # (records, then sweeps for real)
        began = time.monotonic()
        changed = real_sweep(*args)  # type: ignore[arg-type]
        deadline = inspect.signature(real_sweep).bind(*args).arguments["deadline"]
        sweeps.append((deadline, began, changed))
        return changed

    monkeypatch.setattr(construct_module, "_sweep", sweep)
    _sweeping_phase(plan, 4, monkeypatch)
    assert len(sweeps) >= 3  # one after every batch
    if cap == 0:  # each at its end before it began: no member re-planned
        assert all(deadline <= began and changed == 0 for deadline, began, changed in sweeps)
    else:  # half the phase (600 s) from when it was due, not the phase's end
        assert all(began < deadline <= began + 300 for deadline, began, _ in sweeps)
        assert sweeps[0][2] > 0


@pytest.mark.parametrize(("given", "used"), [((), (4,)), ((0,), (0,))])
def test_a_sweep_re_plans_members_with_the_plans_sweep_beams(
        given: tuple[int, ...], used: tuple[int, ...],
        monkeypatch: pytest.MonkeyPatch) -> None:
    plan = Plan(anneal_batch=200, anneal_sweep_every=1e-9, anneal_sweep_beams=given,
                sweep_beams=(4,), anneal_t0=0.01, anneal_t1=0.01)
    seen: list[tuple[int, ...]] = []
    real_sweep = construct_module._sweep

    def sweep(*args: object) -> int:  # (records, then sweeps for real)
        seen.append(inspect.signature(real_sweep).bind(*args).arguments["beams"])
        return real_sweep(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(construct_module, "_sweep", sweep)
    _sweeping_phase(plan, 3, monkeypatch)
    assert seen and set(seen) == {used}  # (empty: the construction's sweep_beams)


@pytest.mark.parametrize("share", [-1.0, 0.3])
def test_the_phase_sets_the_falling_shaping_cost_before_every_batch(
        share: float, monkeypatch: pytest.MonkeyPatch) -> None:
    shares: list[tuple[float, float]] = []  # (the share set, the annealer's split at its run)
    real_set, real_run = Annealer.set_split, Annealer.run

    def set_split(ann: Annealer, value: float) -> None:  # (records, then sets for real)
        shares.append((value, -1.0))
        real_set(ann, value)

    def run(ann: Annealer, *args: object) -> int:
        shares[-1] = (shares[-1][0], ann.split)
        return real_run(ann, *args)

    monkeypatch.setattr(Annealer, "set_split", set_split)
    monkeypatch.setattr(Annealer, "run", run)
    _sweeping_phase(Plan(anneal_batch=200, anneal_split=share), 4, monkeypatch)
    assert len(shares) == 4 and all(value == seen for value, seen in shares)
    values = [value for value, _ in shares]
    assert values == sorted(values, reverse=True)  # (falling with the phase's clock)
    if share < 0:  # make_plan has not decided: no shaping
        assert values == [0.0] * 4
    else:  # (a phase of 600 s: four small batches end long before the share reaches 0)
        assert all(0 < value <= 0.3 for value in values)


def test_sweeps_that_gain_less_a_second_than_annealing_come_twice_as_seldom() -> None:
    from actors.solve.sa_phase import next_gap

    assert next_gap(10.0, 10.0, (50, 5.0), (100, 20.0)) == 10.0  # 10 a second against 5
    assert next_gap(10.0, 10.0, (10, 5.0), (100, 20.0)) == 20.0  # 2 a second against 5
    assert next_gap(40.0, 10.0, (0, 5.0), (0, 20.0)) == 10.0  # neither gains: no worse
    assert next_gap(40.0, 10.0, (30, 5.0), (100, 20.0)) == 10.0  # paying again: the base


def test_a_cancelled_search_neither_waits_nor_anneals(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = instance(5)
    runs: list[int] = []  # (0: an annealer built, 1: a batch of moves)

    def waited(seconds: float) -> None:
        raise AssertionError(f"a cancelled search waited {seconds} s for a roster")

    monkeypatch.setattr(time, "sleep", waited)  # (work, not a clock: any wait fails)
    real_init = Annealer.__init__

    def init(ann: Annealer, *args: object) -> None:  # (records, then builds for real)
        runs.append(0)
        real_init(ann, *args)

    monkeypatch.setattr(Annealer, "__init__", init)
    monkeypatch.setattr(Annealer, "run", lambda ann, *args: runs.append(1) or 0)
    empty = Search(problem, None, time.monotonic())
    empty.stopped = True
    anneal_phase(empty, Plan(), 1, time.monotonic() + 30)
    begun, greedy = started(problem)
    begun.stopped = True
    anneal_phase(begun, Plan(), 1, time.monotonic() + 30)
    assert runs == [] and empty.inc.roster is None
    assert begun.inc.objective == greedy and begun.inc.source == "construct"
