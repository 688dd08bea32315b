import ast
import time
from functools import partial
from pathlib import Path

import pytest

from actors.solve.constraints import ModelFlags
from actors.solve.construct import construct
from actors.solve.plan import (
    ANNEAL_BOTH_END,
    ANNEAL_BOTH_MIN_DAYS,
    ANNEAL_END,
    COMPLETE_SHARE,
    EXACT_MAX_DAYS,
    EXACT_MAX_TERMS,
    EXTRAS_MAX_DAYS,
    FINISH_SHARE,
    PARTIAL_CHUNK,
    PARTIAL_ROOT_END,
    REQUESTS_SHARE,
    ROTATE_SHARE,
    SPLIT_END,
    SPLIT_SHARE,
    SWEEP_BEAMS,
    SWEEP_EVERY,
    WEEKS_SHARE,
    Plan,
    estimate_terms,
    make_plan,
)
from actors.solve.schema import RosterProblem, SolveOptions
from tests.actors.solve.random_problems import random_problem

SOLVE = Path(__file__).resolve().parents[3] / "actors" / "solve"


def problem(days: int, staff: int, shifts: int = 4) -> RosterProblem:
    return RosterProblem.model_validate({
        "horizon": {"days": days},
        "shifts": [{"id": f"S{i}", "length_minutes": 480} for i in range(shifts)],
        "staff": [{"id": f"E{i}", "max_weekends": 2, "max_consecutive_shifts": 5,
                   "min_consecutive_shifts": 2} for i in range(staff)],
        "cover": [{"day": d, "shift_id": "S0", "requirement": 2} for d in range(days)],
    })


def test_a_four_week_problem_gets_every_phase_and_the_full_model() -> None:
    plan = make_plan(problem(28, 30), SolveOptions(workers=2))
    assert plan.exact and plan.colgen and plan.construct and plan.lns
    assert plan.flags.flow and plan.flags.windows and plan.notes == ()


def test_a_year_long_problem_leaves_out_what_will_not_fit_and_says_so() -> None:
    plan = make_plan(problem(364, 50, 10), SolveOptions(workers=2))
    assert not plan.flags.flow and not plan.flags.windows
    assert not plan.colgen
    assert plan.construct and plan.lns
    assert plan.notes and any("column generation" in n for n in plan.notes)
    assert plan.first_beams[0] > 0 and plan.sweep_beams[0] > 0  # heuristic DP beams
    assert plan.lns_compact and plan.sub_limit_s == 3.0  # compact LNS sub-models instead


def test_only_a_plan_without_column_generation_solves_compact_lns_sub_models() -> None:
    plan = make_plan(problem(28, 20), SolveOptions(workers=2))
    assert plan.colgen and not plan.lns_compact and plan.sub_limit_s == 1.0
    tried = make_plan(problem(364, 50, 10), SolveOptions(workers=2),
                      Plan().with_overrides({"sub_limit_s": "2", "construct_share": "0.2"}))
    assert tried.lns_compact and tried.sub_limit_s == 2.0  # an override stays
    assert tried.construct_share == 0.2
    lns_only = make_plan(problem(364, 50, 10), SolveOptions(workers=2), Plan(anneal_end=0))
    assert lns_only.construct_share == 0.5  # (annealing switched off: the sweeps improve)


def test_a_plan_without_an_exact_search_anneals_and_ends_its_sweeps_early() -> None:
    big = make_plan(problem(28, 120, 18), SolveOptions(workers=2), Plan(exact=False))
    year = make_plan(problem(364, 50, 10), SolveOptions(workers=2))
    for plan, end in ((big, ANNEAL_END), (year, ANNEAL_BOTH_END)):
        assert not plan.exact and plan.anneal_end == end and plan.construct_share == 0.1
        assert any("anneal" in n for n in plan.notes)
    month = make_plan(problem(28, 30), SolveOptions(workers=2))
    assert month.exact and month.anneal_end == 0  # its second core runs the exact search
    assert not any("anneal" in n for n in month.notes)
    kept = make_plan(problem(364, 50, 10), SolveOptions(workers=2), Plan(anneal_end=0.3))
    assert kept.anneal_end == 0.3 and kept.construct_share == 0.1
    off = make_plan(problem(364, 50, 10), SolveOptions(workers=2), Plan(anneal_end=0))
    assert off.anneal_end == 0 and not any("anneal" in n for n in off.notes)


def test_the_exact_search_is_dropped_only_above_the_memory_budget() -> None:
    small = problem(EXTRAS_MAX_DAYS, 20)
    big = problem(364, 500, 20)
    assert estimate_terms(small, ModelFlags()) < estimate_terms(big, ModelFlags())
    assert make_plan(small, SolveOptions()).exact
    plan = make_plan(big, SolveOptions())
    assert not plan.exact and any("memory" in n for n in plan.notes)


def test_a_long_horizon_that_fits_in_memory_drops_the_exact_search_for_its_horizon() -> None:
    half_year = problem(182, 20)  # Instance 20's kind: fits the budget, no exact search
    assert estimate_terms(half_year, ModelFlags(flow=False, windows=False)) < EXACT_MAX_TERMS
    plan = make_plan(half_year, SolveOptions())
    note = next(n for n in plan.notes if "no exact search" in n)
    assert not plan.exact and f"more than {EXACT_MAX_DAYS} days" in note and "memory" not in note
    assert "annealing, then a second LNS," in note  # what its thread does instead
    off = make_plan(half_year, SolveOptions(), Plan(anneal_end=0.0))
    assert "runs a second LNS instead" in next(n for n in off.notes if "no exact" in n)


def test_overrides_reach_plan_fields_and_model_flags_and_reject_unknown_names() -> None:
    plan = Plan().with_overrides({"colgen": "0", "flow": "0", "stall_s": "30",
                                  "sweep_beams": "2/4"})
    assert not plan.colgen and not plan.flags.flow and plan.stall_s == 30.0
    assert plan.sweep_beams == (2, 4)
    shares = Plan().with_overrides({"anneal_mix": "0.5/0/0.25/0.25"}).anneal_mix
    assert shares == (0.5, 0.0, 0.25, 0.25) and all(isinstance(v, float) for v in shares)
    with pytest.raises(ValueError, match="no_such"):
        Plan().with_overrides({"no_such": "1"})


def test_model_runs_the_primal_side_but_primal_does_not_import_model() -> None:
    def imported(name: str) -> set[str]:
        tree = ast.parse((SOLVE / f"{name}.py").read_text())
        return {node.module for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module}

    assert "actors.solve.model" not in imported("primal")
    assert "actors.solve.primal" in imported("model")


def test_both_threads_anneal_until_85_percent_only_above_84_days_where_the_plan_anneals() -> None:
    year = make_plan(problem(364, 50, 10), SolveOptions(workers=2))
    assert year.anneal_threads == 2 and any("both threads anneal" in n for n in year.notes)
    assert year.anneal_end == ANNEAL_BOTH_END and any("85% of" in n for n in year.notes)
    month = make_plan(problem(ANNEAL_BOTH_MIN_DAYS, 120, 18), SolveOptions(workers=2),
                      Plan(exact=False))
    assert month.anneals and month.anneal_threads == 1 and month.anneal_end == ANNEAL_END
    assert any("one thread anneals" in n for n in month.notes)
    off = make_plan(problem(364, 50, 10), SolveOptions(workers=2), Plan(anneal_end=0))
    assert off.anneal_threads == 1  # nothing anneals
    kept = make_plan(problem(364, 50, 10), SolveOptions(workers=2),
                     Plan().with_overrides({"anneal_threads": "1"}))
    assert kept.anneal_threads == 1 and any("one thread anneals" in n for n in kept.notes)
    assert kept.anneal_end == ANNEAL_END


def test_rotations_are_planned_above_84_days_unless_overridden() -> None:
    from actors.solve.anneal import Annealer

    assert make_plan(problem(28, 20), SolveOptions(workers=2)).anneal_rotate == 0.0
    half = make_plan(problem(182, 50, 6), SolveOptions(workers=2))
    assert half.anneal_rotate == ROTATE_SHARE
    off = make_plan(problem(182, 50, 6), SolveOptions(workers=2),
                    Plan().with_overrides({"anneal_rotate": "0"}))
    assert off.anneal_rotate == 0.0
    five = Plan().with_overrides({"anneal_mix": "0.2/0.2/0.3/0.3/0.5", "anneal_rotate": "0.1"})
    small = random_problem(0)
    roster = construct(small, time.monotonic() + 60, seed=0, max_sweeps=0).roster
    assert Annealer(small, roster, five).shares == (0.2, 0.2, 0.3, 0.3, 0.5, 0.0)
    assert Annealer(small, roster, half).shares == (*half.anneal_mix, ROTATE_SHARE, WEEKS_SHARE)


def plan_field(field: str, days: int, overrides: dict[str, str] | None = None) -> object:
    """``field`` of the plan made for a 50-member, 6-shift problem of ``days`` days."""
    base = Plan().with_overrides(overrides or {})
    return getattr(make_plan(problem(days, 50, 6), SolveOptions(workers=2), base), field)


def test_request_moves_are_planned_at_every_horizon_unless_overridden() -> None:
    from actors.solve.anneal import Annealer

    share = partial(plan_field, "anneal_requests")

    assert share(28) == share(84) == share(85) == share(364) == REQUESTS_SHARE > 0
    assert share(364, {"anneal_requests": "0"}) == 0.0
    assert share(28, {"anneal_requests": "0"}) == 0.0
    small = random_problem(0)
    roster = construct(small, time.monotonic() + 60, seed=0, max_sweeps=0).roster
    assert Annealer(small, roster).asked == 0.0  # (Plan()'s -1: not decided, none)
    planned = make_plan(small, SolveOptions(workers=2))
    assert Annealer(small, roster, planned).mix[-1] == pytest.approx(1.0 - REQUESTS_SHARE)


def test_weekend_completions_are_planned_up_to_84_days_unless_overridden() -> None:
    from actors.solve.anneal import Annealer

    share = partial(plan_field, "anneal_complete")

    assert share(28) == share(84) == COMPLETE_SHARE > 0
    assert share(85) == share(364) == 0.0
    assert share(28, {"anneal_complete": "0"}) == 0.0
    small = random_problem(0)
    roster = construct(small, time.monotonic() + 60, seed=0, max_sweeps=0).roster
    assert Annealer(small, roster).complete == 0.0  # (Plan()'s -1: not decided, none)
    planned = make_plan(small, SolveOptions(workers=2))
    mix = Annealer(small, roster, planned).mix  # (completions: between the last two bounds)
    assert mix[-1] - mix[-2] == pytest.approx(COMPLETE_SHARE)


def test_week_moves_are_planned_above_84_days_unless_overridden() -> None:
    from actors.solve.anneal import Annealer

    share = partial(plan_field, "anneal_weeks")

    assert share(28) == share(84) == 0.0
    assert share(85) == share(364) == WEEKS_SHARE > 0
    assert share(182, {"anneal_weeks": "0"}) == 0.0
    small = random_problem(0)
    roster = construct(small, time.monotonic() + 60, seed=0, max_sweeps=0).roster
    weekly = Plan().with_overrides({"anneal_weeks": "0.4"})
    assert Annealer(small, roster, weekly).shares == (*weekly.anneal_mix, 0.0, 0.4)
    assert Annealer(small, roster).shares[-1] == 0.0  # (Plan()'s -1: not decided, none)


def test_one_day_weekends_are_shaped_above_84_days_unless_overridden() -> None:
    share = partial(plan_field, "anneal_split")

    assert share(85) == share(182) == share(364) == SPLIT_SHARE > 0
    assert share(28) == share(84) == 0.0
    assert share(364, {"anneal_split": "0"}) == 0.0
    assert share(28, {"anneal_split": "0.2"}) == 0.2
    end = partial(plan_field, "anneal_split_end")
    assert end(85) == end(364) == SPLIT_END < 1.0
    assert end(28) == end(84) == 1.0
    assert end(364, {"anneal_split_end": "0.5"}) == 0.5


def test_cp_sat_finishes_the_dive_above_28_days_unless_overridden() -> None:
    share = partial(plan_field, "dive_finish")

    assert share(29) == share(84) == FINISH_SHARE > 0
    assert share(14) == share(28) == 0.0
    assert share(84, {"dive_finish": "0"}) == 0.0
    assert share(28, {"dive_finish": "0.3"}) == 0.3


def test_sweeps_inside_annealing_are_planned_above_84_days_up_to_200_unless_overridden(
) -> None:
    every = partial(plan_field, "anneal_sweep_every")

    assert every(28) == 0.0 and every(84) == 0.0 and every(364) == 0.0
    assert every(85) == every(182) == every(200) == SWEEP_EVERY > 0
    assert every(182, {"anneal_sweep_every": "0"}) == 0.0
    assert every(364, {"anneal_sweep_every": "0.2"}) == 0.2


def test_those_sweeps_re_plan_members_exactly_unless_overridden() -> None:
    beams = partial(plan_field, "anneal_sweep_beams")

    assert SWEEP_BEAMS == (0,)  # (the DP without a beam: each member's optimum)
    assert beams(85) == beams(182) == beams(200) == SWEEP_BEAMS
    assert beams(182, {"anneal_sweep_beams": "4"}) == (4,)
    for days in (28, 84, 364):  # (where sweeps are not planned: the construction's beams)
        assert beams(days) == plan_field("sweep_beams", days) and 0 not in beams(days)


def test_sideways_lns_steps_are_planned_above_84_days_unless_overridden() -> None:
    assert make_plan(problem(28, 20), SolveOptions(workers=2)).lns_sideways == 0.0
    assert make_plan(problem(182, 50, 6), SolveOptions(workers=2)).lns_sideways == 1.0
    off = make_plan(problem(182, 50, 6), SolveOptions(workers=2),
                    Plan().with_overrides({"lns_sideways": "0"}))
    assert off.lns_sideways == 0.0


def test_partial_pricing_keeps_column_generation_only_where_full_rounds_are_too_slow() -> None:
    big = problem(28, 120, 18)  # Instance 13's size: 60,480 cells
    assert not make_plan(big, SolveOptions(workers=2)).colgen  # the default: no colgen there
    plan = make_plan(big, SolveOptions(workers=2), Plan(colgen_chunk=-1))
    assert plan.colgen and plan.colgen_chunk == PARTIAL_CHUNK
    assert plan.lns_compact and not plan.fixing and not plan.lp_repair
    assert plan.root_end == PARTIAL_ROOT_END and plan.sub_limit_s == 3.0
    assert any("partial pricing" in n for n in plan.notes)
    small = make_plan(problem(28, 20), SolveOptions(workers=2), Plan(colgen_chunk=-1))
    assert small.colgen and small.colgen_chunk == 0 and not small.lns_compact  # full rounds
    assert small.root_end == 1.0
    year = make_plan(problem(364, 50, 10), SolveOptions(workers=2), Plan(colgen_chunk=-1))
    assert not year.colgen  # the exact DP is too slow per member there, chunks or not
