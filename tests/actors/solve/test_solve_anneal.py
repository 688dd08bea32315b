"""The annealer keeps the checker's objective exactly, scores hard rules as the checker judges
them, and hands out only rosters the checker accepts."""

import random
import time
from pathlib import Path

import numpy as np
import pytest

from actors.solve.anneal import Annealer
from actors.solve.checker import _staff_violations, check_roster, objective_breakdown
from actors.solve.construct import construct
from actors.solve.reader import parse_problem_text
from actors.solve.schema import RosterProblem
from tests.actors.solve.random_problems import random_problem

DATA = Path(__file__).resolve().parents[2] / "data" / "shift_scheduling"
LONG = time.monotonic() + 10**6
SEEDS = [s for s in range(12) if s != 2]  # (2 has no valid roster)
MOVES = {  # the shares of the untargeted moves, of fill moves, of weekend completions and of
    # request moves, and the one-day weekends' shaping cost
    "plain": ((0.2, 0.2, 0.3, 0.3), 0.0, 0.0, 0.0, 0.0),
    "fill": ((0.2, 0.2, 0.3, 0.3), 0.5, 0.0, 0.0, 0.0),  # (half the moves fill short rows)
    "rotate": ((0.2, 0.2, 0.2, 0.2, 0.6), 0.1, 0.0, 0.0, 0.0),  # (most rotate a member's days)
    "requests": ((0.2, 0.2, 0.3, 0.3), 0.1, 0.0, 0.5, 0.0),  # (half swap around a request)
    "shaped": ((0.2, 0.2, 0.3, 0.3, 0.2), 0.1, 0.0, 0.1, 0.5),  # (a one-day weekend: half a
    # short row)
    "weeks": ((0.1, 0.1, 0.1, 0.1, 0.1, 0.6), 0.1, 0.0, 0.1, 0.0),  # (most swap days weeks
    # apart)
    "complete": ((0.2, 0.2, 0.3, 0.3), 0.1, 0.5, 0.1, 0.0),  # (half complete a weekend)
}


def instance(number: int) -> RosterProblem:
    return parse_problem_text((DATA / f"Instance{number}.txt").read_text())


def start(problem: RosterProblem, seed: int = 0) -> Annealer:
    built = construct(problem, LONG, seed=seed, max_sweeps=0)
    assert built.roster is not None
    return Annealer(problem, built.roster)


def use(ann: Annealer, moves: str) -> Annealer:
    shares, fill, complete, asked, shaping = MOVES[moves]
    ann.set_shares(shares)
    ann.set_fill(fill)
    ann.set_complete(complete)
    ann.set_requests(asked)
    ann.set_split(shaping)
    return ann


def recount(ann: Annealer) -> np.ndarray:
    cnt = np.zeros_like(ann.cnt)
    n_shifts = len(ann.shift_ids)
    for e, d in zip(*np.nonzero(ann.x >= 0), strict=True):
        k = d * n_shifts + ann.x[e, d]
        for r in ann.rows[ann.row_ptr[k]:ann.row_ptr[k + 1]]:
            cnt[r] += ann.qual[e, r]
    return cnt


@pytest.mark.parametrize("seed", SEEDS)
def test_a_members_violation_is_zero_exactly_when_the_checker_finds_no_broken_rule(
        seed: int) -> None:
    problem = random_problem(seed)
    ann = start(problem, seed)
    rng = random.Random(seed)
    choices = [-1, *range(len(problem.shifts))]
    tried = valid = 0
    for e, st in enumerate(problem.staff):
        row = ann.x[e].copy()
        for _ in range(150):  # random walks from a valid schedule: valid and broken ones
            row[rng.randrange(len(row))] = rng.choice(choices)
            days = [None if v < 0 else ann.shift_ids[v] for v in row]
            broken = _staff_violations(problem, st, days)
            assert (ann.violation(e, row) == 0) == (not broken), (e, days, broken)
            tried, valid = tried + 1, valid + (not broken)
    assert 0 < valid < tried


@pytest.mark.parametrize("moves", list(MOVES))
@pytest.mark.parametrize("seed", SEEDS)
def test_the_tracked_objective_counts_tallies_and_violations_match_a_recount_after_every_batch(
        seed: int, moves: str) -> None:
    problem = random_problem(seed)
    ann = start(problem, seed)
    use(ann, moves)
    for batch in range(6):
        ann.run(3_000, 20.0, 5.0, 10.0, batch)  # hot and cheap rules: it leaves valid rosters
        roster = ann.roster()
        assert ann.objective == pytest.approx(objective_breakdown(problem, roster).total)
        assert (ann.cnt == recount(ann)).all()
        assert list(ann.h) == [ann.violation(e) for e in range(len(problem.staff))]
        assert ann.violations == sum(ann.h)
        for tracked, counted in zip(ann.tally, ann._tally(ann.x), strict=True):
            assert (tracked == counted).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_a_change_inside_its_run_window_changes_the_local_rules_as_a_whole_row_rescan_does(
        seed: int) -> None:
    from actors.solve._anneal_rules import local_violation, window

    problem = random_problem(seed)
    ann = start(problem, seed)
    rng = random.Random(seed)
    choices = [-1, *range(len(problem.shifts))]
    days = len(ann.x[0])
    for e in range(len(problem.staff)):
        args = (ann.allowed[e], ann.forbid)
        rules = (ann.maxc[e], ann.minc[e], ann.minoff[e])
        row = ann.x[e].copy()
        for _ in range(100):  # random changes of 1-4 days, nearby or across the horizon
            lo = rng.randrange(days)
            hi = min(days - 1, lo + rng.randrange(4 if rng.random() < 0.8 else days))
            left, right = window(row, lo, hi)
            before = local_violation(row, *args, left, right, *rules)
            whole = local_violation(row, *args, 0, days - 1, *rules)
            for d in range(lo, hi + 1):
                row[d] = rng.choice(choices)
            assert (local_violation(row, *args, left, right, *rules) - before
                    == local_violation(row, *args, 0, days - 1, *rules) - whole)


@pytest.mark.parametrize("moves", list(MOVES))
@pytest.mark.parametrize("seed", SEEDS)
def test_the_best_roster_is_checker_valid_and_its_objective_never_rises(
        seed: int, moves: str) -> None:
    problem = random_problem(seed)
    ann = start(problem, seed)
    use(ann, moves)
    seen = [ann.best_objective]
    for batch in range(6):
        ann.run(3_000, 5.0, 0.5, 50.0, batch)
        report = check_roster(problem, ann.best_roster())
        assert report.feasible and report.objective == ann.best_objective
        seen.append(ann.best_objective)
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize("moves", list(MOVES))
@pytest.mark.parametrize("seed", SEEDS)
def test_undoing_a_rising_move_on_valid_members_unscored_decides_as_scoring_every_move(
        seed: int, moves: str) -> None:
    problem = random_problem(seed)
    quick, whole = start(problem, seed), start(problem, seed)
    whole.quick = False
    broken = 0
    for ann in (quick, whole):
        use(ann, moves)
    for batch, (hot, cold, weight) in enumerate([(20.0, 5.0, 10.0), (5.0, 0.5, 50.0)] * 3):
        for ann in (quick, whole):
            ann.run(3_000, hot, cold, weight, batch)
        assert (quick.x == whole.x).all() and (quick.best == whole.best).all()
        assert (quick.h == whole.h).all() and (quick.state[:3] == whole.state[:3]).all()
        broken += quick.violations > 0
    assert quick.unscored > 0 and whole.unscored == 0
    assert broken  # (rosters with broken rules were visited: both paths were taken)


def test_only_day_moves_keep_each_members_shifts_and_only_block_swaps_keep_each_days(
        ) -> None:
    changed = [0, 0]
    for seed in SEEDS[:6]:
        problem = random_problem(seed)
        moved, swapped = start(problem, seed), start(problem, seed)
        moved.set_shares((0.0, 0.0, 0.0, 1.0))  # a member's value moves to another day
        swapped.set_shares((0.0, 1.0, 0.0, 0.0))  # two members swap a block of days
        first = moved.x.copy()
        by_member = [sorted(row) for row in moved.x.tolist()]
        by_day = [sorted(col) for col in swapped.x.T.tolist()]
        moved.run(5_000, 20.0, 5.0, 10.0, 1)
        swapped.run(5_000, 20.0, 5.0, 10.0, 1)
        assert [sorted(row) for row in moved.x.tolist()] == by_member
        assert [sorted(col) for col in swapped.x.T.tolist()] == by_day
        changed[0] += bool((moved.x != first).any())
        changed[1] += bool((swapped.x != first).any())
    assert min(changed) > 0, changed  # (each kind moved on some problems)


def test_a_rotation_shifts_one_members_block_of_days_by_one_day() -> None:
    from actors.solve._anneal_kernels import _rotate

    row = np.array([0, 1, -1, 2, 2, -1, 3])
    for right, want in [(True, [0, 2, 1, -1, 2, -1, 3]), (False, [0, -1, 2, 2, 1, -1, 3])]:
        new, cells_e, cells_d = (np.zeros(16, np.int64) for _ in range(3))
        m = _rotate(row, 1, 4, right, 5, new, cells_e, cells_d)
        got = row.copy()
        got[cells_d[:m]] = new[:m]
        assert got.tolist() == want and set(cells_e[:m]) == {5}
        assert m == sum(a != b for a, b in zip(row, want, strict=True))  # (changed cells only)


def test_rotations_keep_each_members_shifts() -> None:
    moved = 0
    for seed in SEEDS[:6]:
        problem = random_problem(seed)
        ann = start(problem, seed)
        ann.set_shares((0.0, 0.0, 0.0, 0.0, 1.0))
        first = ann.x.copy()
        ann.run(5_000, 20.0, 5.0, 10.0, 1)
        assert [sorted(r) for r in ann.x.tolist()] == [sorted(r) for r in first.tolist()]
        moved += bool((ann.x != first).any())
    assert moved


def test_move_shares_must_be_four_to_six_and_not_all_zero() -> None:
    ann = start(random_problem(0))
    for bad in [(1.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0), (1.0, -1.0, 0.5, 0.5),
                (0.2, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1)]:
        with pytest.raises(ValueError, match="four to six shares"):
            ann.set_shares(bad)


def test_the_same_seed_and_moves_give_the_same_roster() -> None:
    problem = instance(5)
    one, two = start(problem), start(problem)
    one.run(50_000, 5.0, 0.3, 300.0, 7)
    two.run(50_000, 5.0, 0.3, 300.0, 7)
    assert (one.x == two.x).all() and one.best_objective == two.best_objective


def test_annealing_improves_the_greedy_roster_of_instance_5() -> None:
    problem = instance(5)
    ann = start(problem)
    first = ann.best_objective
    ann.run(300_000, 5.0, 0.3, 300.0, 1)
    assert ann.best_objective < first
    assert check_roster(problem, ann.best_roster()).objective == ann.best_objective


def two_members_one_short_row() -> RosterProblem:
    """A week, one shift; A may not work day 3 (a day off); the row on day 3 needs one, the
    row on day 5 is met by A, who must work exactly two days (480 minutes each)."""
    return RosterProblem.model_validate({
        "horizon": {"days": 7}, "shifts": [{"id": "D", "length_minutes": 480}],
        "staff": [{"id": "A", "days_off": [3], "min_total_minutes": 960,
                   "max_total_minutes": 960},
                  {"id": "B", "min_total_minutes": 960, "max_total_minutes": 960}],
        "cover": [{"day": 3, "shift_id": "D", "requirement": 1},
                  {"day": 5, "shift_id": "D", "requirement": 1}]})


def test_a_fill_move_puts_a_qualified_member_on_a_short_row_and_frees_a_worked_day_nearby(
        ) -> None:
    problem = two_members_one_short_row()
    roster = {"A": [None] * 4 + ["D", "D", None], "B": ["D", "D"] + [None] * 5}
    ann = Annealer(problem, roster)
    assert ann.best_objective == 100  # (day 3 short: weight_under 100; no row on 0, 1, 4)
    ann.set_fill(1.0)  # only fill moves, at temperature ~0: only improving ones are taken
    ann.run(2_000, 1e-9, 1e-9, 1000.0, 0)
    best = ann.best_roster()
    assert best["A"][3] is None  # A's day off is never filled
    assert best["B"][3] == "D" and sum(v is not None for v in best["B"]) == 2
    assert ann.best_objective == check_roster(problem, best).objective < 100


def two_members_one_request() -> RosterProblem:
    """A week, shifts E then L (no E the day after an L); A asks for E on day 2 (weight 3),
    which B works; each works exactly three days, and the cover asks for one E on days 0-2
    and one L on days 4-6."""
    cover = [{"day": d, "shift_id": "E", "requirement": 1} for d in range(3)]
    cover += [{"day": d, "shift_id": "L", "requirement": 1} for d in range(4, 7)]
    return RosterProblem.model_validate({
        "horizon": {"days": 7},
        "shifts": [{"id": "E", "length_minutes": 480},
                   {"id": "L", "length_minutes": 480, "cannot_follow": ["E"]}],
        "staff": [{"id": m, "min_total_minutes": 1440, "max_total_minutes": 1440}
                  for m in "AB"],
        "shift_on_requests": [{"staff_id": "A", "day": 2, "shift_id": "E", "weight": 3}],
        "cover": cover})


def test_a_request_move_swaps_a_block_with_who_works_the_shift_asked_for_and_keeps_the_cover(
        ) -> None:
    problem = two_members_one_request()
    roster = {"A": [None] * 4 + ["L"] * 3, "B": ["E"] * 3 + [None] * 4}
    ann = Annealer(problem, roster)
    assert ann.best_objective == 3  # (the cover is met; A's request is not)
    by_day = [sorted(col) for col in ann.x.T.tolist()]
    ann.set_requests(1.0)  # only request moves, at temperature ~0: only improving ones
    ann.run(2_000, 1e-9, 1e-9, 1000.0, 0)
    best = ann.best_roster()
    assert best == {"A": ["E"] * 3 + [None] * 4, "B": [None] * 4 + ["L"] * 3}
    assert ann.best_objective == check_roster(problem, best).objective == 0
    assert [sorted(col) for col in ann.x.T.tolist()] == by_day


def test_request_moves_change_nothing_when_every_request_is_honoured() -> None:
    problem = two_members_one_request()
    roster = {"A": ["E"] * 3 + [None] * 4, "B": [None] * 4 + ["L"] * 3}
    ann = Annealer(problem, roster)
    before = ann.x.copy()
    ann.set_requests(1.0)
    ann.run(2_000, 10.0, 10.0, 1.0, 0)  # hot: any move found would likely be taken
    assert (ann.x == before).all()


def test_fill_moves_change_nothing_when_no_row_is_short() -> None:
    problem = two_members_one_short_row()
    roster = {"A": [None] * 5 + ["D", "D"], "B": [None] * 3 + ["D", "D"] + [None] * 2}
    ann = Annealer(problem, roster)
    before = ann.x.copy()
    ann.set_fill(1.0)
    ann.run(2_000, 10.0, 10.0, 1.0, 0)  # hot: any move found would likely be taken
    assert (ann.x == before).all()


def one_member_half_a_weekend() -> RosterProblem:
    """A week from a Monday (days 5 and 6 the weekend), shifts N and D (no N the day after a
    D): A works exactly three shifts and at most one weekend, B may not work day 6, and the
    cover asks for one D on day 6 only."""
    return RosterProblem.model_validate({
        "horizon": {"days": 7},
        "shifts": [{"id": "N", "length_minutes": 480, "cannot_follow": ["D"]},
                   {"id": "D", "length_minutes": 480}],
        "staff": [{"id": "A", "min_total_minutes": 1440, "max_total_minutes": 1440,
                   "max_weekends": 1},
                  {"id": "B", "days_off": [6]}],
        "cover": [{"day": 6, "shift_id": "D", "requirement": 1}]})


def test_a_member_who_works_one_day_of_a_weekend_is_completed_to_both_and_keeps_their_minutes(
        ) -> None:
    problem = one_member_half_a_weekend()
    roster = {"A": [None, None, "D", "D", None, "D", None], "B": [None] * 7}
    ann = Annealer(problem, roster)
    assert ann.best_objective == 100  # (day 6 short; A works Saturday only)
    ann.set_complete(1.0)  # only completions, at temperature ~0: only improving ones are taken
    ann.run(2_000, 1e-9, 1e-9, 1000.0, 0)
    best = ann.best_roster()
    assert best["A"][5:] == ["D", "D"]  # (not N on day 6: N may not follow a D)
    assert sum(v is not None for v in best["A"]) == 3  # a weekday went for it
    assert ann.best_objective == check_roster(problem, best).objective == 0


def test_completions_change_nothing_when_no_weekend_is_worked_on_one_day() -> None:
    problem = one_member_half_a_weekend()
    roster = {"A": [None, None, "D", None, None, "D", "D"], "B": [None] * 7}
    ann = Annealer(problem, roster)
    before = ann.x.copy()
    ann.set_complete(1.0)
    ann.run(2_000, 10.0, 10.0, 1.0, 0)  # hot: any move found would likely be taken
    assert (ann.x == before).all()


def test_the_annealer_refuses_to_start_from_an_invalid_roster() -> None:
    problem = instance(1)
    roster = {st.id: [problem.shifts[0].id] * problem.horizon.days for st in problem.staff}
    with pytest.raises(ValueError, match="valid roster"):
        Annealer(problem, roster)
