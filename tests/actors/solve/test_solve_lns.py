import random
import threading
import time
from pathlib import Path

from ortools.sat.python import cp_model

from actors.solve.checker import check_roster
from actors.solve.constraints import ModelFlags, build_model
from actors.solve.construct import construct
from actors.solve.hints import add_hints
from actors.solve.lns import (
    MAX_SIZE,
    MIN_SIZE,
    Arm,
    Incumbent,
    LnsWorker,
    _fixed_copy,
    roster_of,
)
from actors.solve.neighbourhood import cells_to_free, could_fill
from actors.solve.reader import parse_problem_text

DATA = Path(__file__).resolve().parents[2] / "data" / "shift_scheduling"


def worker_for(number: int, seen: list[int]) -> tuple[LnsWorker, Incumbent]:
    problem = parse_problem_text((DATA / f"Instance{number}.txt").read_text())
    rm = build_model(problem, ModelFlags(flow=False, windows=False))
    inc = Incumbent(on_improve=lambda objective, source: seen.append(objective))
    worker = LnsWorker(rm, inc, 0, time.monotonic(), lambda m, r: add_hints(rm, r, m))
    return worker, inc


def greedy_first(worker: LnsWorker, inc: Incumbent) -> None:
    """The construction's greedy roster (no sweeps): bounded work, far from optimal."""
    problem = worker.rm.problem
    assert inc.offer(problem, construct(problem, time.monotonic() + 600, max_sweeps=0).roster,
                     None, "construct", 0.0)


def test_lns_improves_its_first_roster_and_every_incumbent_passes_the_checker() -> None:
    seen: list[int] = []
    worker, inc = worker_for(5, seen)
    greedy_first(worker, inc)
    worker.run(time.monotonic() + 600, max_steps=30)
    assert len(seen) >= 2 and seen == sorted(seen, reverse=True) and seen[-1] < seen[0]
    report = check_roster(worker.rm.problem, inc.roster)
    assert report.feasible and report.objective == inc.objective == seen[-1]
    assert worker.steps > 0


def test_stopping_the_lns_ends_it_promptly() -> None:
    worker, _ = worker_for(8, [])
    thread = threading.Thread(target=worker.run, args=(time.monotonic() + 60,))
    thread.start()
    time.sleep(1.0)
    stopped = time.monotonic()
    worker.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert time.monotonic() - stopped < 3


def test_a_neighbourhood_kind_grows_after_closed_sub_solves_and_shrinks_after_timeouts() -> None:
    arm = Arm("days")
    arm.update(closed=True, gain=0)
    assert arm.size > 0.1
    for _ in range(100):
        arm.update(closed=False, gain=0)
    assert arm.size == MIN_SIZE
    for _ in range(100):
        arm.update(closed=True, gain=5)
    assert arm.size == MAX_SIZE and arm.gains == 500 and arm.tries == 201


def test_a_types_neighbourhood_keeps_every_other_members_work_pattern() -> None:
    worker, inc = worker_for(5, [])
    greedy_first(worker, inc)
    rm, roster = worker.rm, inc.roster
    free, typed = cells_to_free(rm, random.Random(3), 0.2, roster, "types")
    freed_staff = {e for e, _ in free}
    assert 2 <= len(freed_staff) < len(rm.problem.staff) and not free & typed
    sub = _fixed_copy(rm, roster, free, lambda m, r: add_hints(rm, r, m), None, typed)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 5
    solver.parameters.num_workers = 1
    assert solver.solve(sub) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    new = roster_of(rm, solver.boolean_value)
    for e, d in typed:
        sid = rm.problem.staff[e].id
        assert (new[sid][d] is None) == (roster[sid][d] is None)
    assert check_roster(rm.problem, new).objective <= inc.objective


def test_staff_neighbourhoods_favour_members_allowed_the_short_shift_type() -> None:
    problem = parse_problem_text((DATA / "Instance8.txt").read_text())
    rm = build_model(problem, ModelFlags(flow=False, windows=False))
    roster = {st.id: ["D" if d == 5 else None for d in range(problem.horizon.days)]
              for st in problem.staff}
    short_types = {row.shift_id for row in problem.cover
                   if row.day == 5 and row.shift_id != "D" and row.requirement > 0}
    fillers = {problem.staff[e].id for e in could_fill(rm, roster, 5)}
    allowed = {st.id for st in problem.staff
               if any(st.max_shifts.get(t, 1) > 0 for t in short_types)}
    assert short_types and fillers == allowed and "R" not in fillers and "H" in fillers
    exact: dict[str, list[str | None]] = {st.id: [None] * problem.horizon.days
                                          for st in problem.staff}
    pool = list(problem.staff)
    for row in (r for r in problem.cover if r.day == 5):
        for _ in range(row.requirement):
            st = next(s for s in pool if s.max_shifts.get(row.shift_id, 1) > 0)
            pool.remove(st)
            exact[st.id][5] = row.shift_id
    idle = {st.id for st in pool}
    assert {problem.staff[e].id for e in could_fill(rm, exact, 5)} == idle


def test_a_guide_adds_a_kind_that_frees_the_members_with_the_highest_reduced_costs() -> None:
    worker, inc = worker_for(5, [])
    greedy_first(worker, inc)
    costly = 3
    worker.set_guide(lambda roster: [5.0 if e == costly else 0.0 for e in range(len(roster))])
    worker.set_guide(worker.guide)  # a second guide replaces the first, no second arm
    assert [arm.kind for arm in worker.arms].count("guided") == 1
    days = worker.rm.problem.horizon.days
    picks = [worker._guided(inc.roster, 0.1) for _ in range(200)]
    assert all(len(free) == 2 * days for free in picks)  # two whole members, all their days
    # weight 5.1 against 0.1 for each of 15 others: chosen ~95 % of the time (uniform: 12.5 %)
    assert sum((costly, 0) in free for free in picks) >= 175


def test_a_pair_neighbourhood_frees_every_member_on_two_windows_whole_weeks_apart() -> None:
    worker, inc = worker_for(5, [])
    greedy_first(worker, inc)
    rm, staff = worker.rm, len(worker.rm.problem.staff)
    rng = random.Random(4)
    for size in (0.1, 0.3, 0.6):
        for _ in range(20):
            free, typed = cells_to_free(rm, rng, size, inc.roster, "pair")
            days = sorted({d for _, d in free})
            assert not typed and len(free) == staff * len(days)
            width = max(1, max(2, round(size * 28 / 2)) // 2)
            assert len(days) == 2 * width  # two windows of this width, not overlapping
            first, second = days[:width], days[width:]
            assert first == list(range(first[0], first[0] + width))
            assert second == list(range(second[0], second[0] + width))
            assert (second[0] - first[0]) % 7 == 0


def test_a_halves_neighbourhood_frees_half_the_staff_on_two_windows_whole_weeks_apart() -> None:
    worker, inc = worker_for(8, [])
    greedy_first(worker, inc)
    rm, staff = worker.rm, len(worker.rm.problem.staff)
    rng = random.Random(5)
    for _ in range(20):
        free, _ = cells_to_free(rm, rng, 0.2, inc.roster, "halves")
        members, days = {e for e, _ in free}, sorted({d for _, d in free})
        assert len(members) == staff // 2 and len(free) == len(members) * len(days)
        width = max(2, round(0.2 * 28 / 2))
        assert len(days) == 2 * width and (days[width] - days[0]) % 7 == 0


def test_a_compact_lns_draws_the_kind_that_gains_most_per_second_most_often() -> None:
    worker, _ = worker_for(8, [])
    worker.set_compact()
    worker.arms[2].credit(100, 1.0)  # halves: 10 a second on average, the others nothing
    picks = [worker._arm().kind for _ in range(400)]
    # drawn at random a quarter of the time (1/3 each), else by rate: halves ~83 %
    assert picks.count("halves") >= 300 and picks.count("days") >= 15


def test_a_compact_lns_drawing_by_work_credits_each_step_s_cp_sat_work_to_its_kind() -> None:
    seen: list[int] = []
    worker, inc = worker_for(8, seen)
    worker.set_compact()
    worker.draw, worker.det_limit = "work", 0.5  # bounded by CP-SAT's work, not the clock
    greedy_first(worker, inc)
    worker.run(time.monotonic() + 600, max_steps=12)
    assert sum(arm.tries for arm in worker.arms) == worker.steps == 12 and not inc.rejected
    assert abs(worker.total.work - worker.work) < 0.05 * 12  # (1e-3 a step at least)
    assert worker.total.gain == inc_gain(seen) > 0
    assert sum(arm.tally.work for arm in worker.arms) < worker.total.work  # discounted


def inc_gain(seen: list[int]) -> int:
    return seen[0] - seen[-1] if len(seen) > 1 else 0


def test_a_compact_lns_improves_and_every_incumbent_passes_the_checker() -> None:
    seen: list[int] = []
    worker, inc = worker_for(8, seen)
    worker.set_compact()
    assert [arm.kind for arm in worker.arms] == ["days", "pair", "halves"]
    greedy_first(worker, inc)
    worker.run(time.monotonic() + 600, max_steps=30)
    assert worker.steps == 30 and not inc.rejected
    assert len(seen) >= 2 and seen == sorted(seen, reverse=True) and seen[-1] < seen[0]
    report = check_roster(worker.rm.problem, inc.roster)
    assert report.feasible and report.objective == inc.objective == seen[-1]


def test_an_overtaken_improvement_is_merged_over_the_new_incumbent_only_when_valid() -> None:
    seen: list[int] = []
    worker, inc = worker_for(8, seen)
    worker.set_compact()
    worker.merge = True
    greedy_first(worker, inc)
    problem = worker.rm.problem
    better = construct(problem, time.monotonic() + 600).roster  # what a sub-solve "found"
    rng = random.Random(0)
    staff, days = len(problem.staff), problem.horizon.days
    gains = []
    for _ in range(20):  # random cells of it written over the incumbent: some break a rule
        members = rng.sample(range(staff), rng.randrange(1, staff))
        start = rng.randrange(days)
        free = {(e, d) for e in members for d in range(start, min(days, start + 10))}
        before = inc.objective
        gains.append(worker._merge(better, free))
        assert gains[-1] == before - inc.objective >= 0
    assert not inc.rejected and any(gains) and 0 in gains
    report = check_roster(problem, inc.roster)
    assert report.feasible and report.objective == inc.objective


def test_a_compact_lns_with_chains_improves_and_every_incumbent_passes_the_checker() -> None:
    seen: list[int] = []
    worker, inc = worker_for(8, seen)
    worker.set_compact()
    worker.set_chains((4,))
    worker.sub_limit_s = 600.0  # a chain is bounded by its DP calls here, not by a clock
    assert [arm.kind for arm in worker.arms][-1] == "chain"
    worker.arms = [arm for arm in worker.arms if arm.kind == "chain"]  # chains alone
    inc.offer(worker.rm.problem, construct(worker.rm.problem, time.monotonic() + 600).roster,
              None, "construct", 0.0)
    worker.run(time.monotonic() + 600, max_steps=20)
    assert worker.steps == 20 and not inc.rejected and worker.arms[0].tries == 20
    assert worker.arms[0].gains == seen[0] - seen[-1] > 0
    report = check_roster(worker.rm.problem, inc.roster)
    assert report.feasible and report.objective == inc.objective
