"""The ``solve`` actor: validate, solve with CP-SAT, record progress, return the roster."""

from __future__ import annotations

from typing import Any

import dramatiq
from pydantic import ValidationError

from config.queues import SOLVE
from config.settings import get_settings
from pools import context
from pools.errors import PermanentError
from pools.middleware import resources

_limits = get_settings().solve


def _warm_pricing() -> bool:
    """Load (or compile, once per machine) the numba kernels of the pricing DP at boot, so no
    job pays for it."""
    from actors.solve.pricing import warm_up

    warm_up()
    return True


resources.register("solve.pricing", _warm_pricing, queues=[SOLVE])


@dramatiq.actor(queue_name=SOLVE, store_results=True, max_retries=2,
                time_limit=int((_limits.max_time_limit_s + 120) * 1000))
def solve_roster(problem: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    from actors.solve.limits import check_limits, effective_options
    from actors.solve.model import solve
    from actors.solve.schema import RosterProblem, SolveOptions

    settings = get_settings().solve
    try:
        roster_problem = RosterProblem.model_validate(problem)
        solve_options = effective_options(SolveOptions.model_validate(options), settings)
    except ValidationError as exc:
        raise PermanentError(f"invalid problem: {exc.errors()[0]['msg']}",
                             kind="bad_input") from exc
    check_limits(roster_problem, settings)

    report = context.progress_reporter()  # CP-SAT calls back on its own threads

    def progress(p: Any) -> None:
        report(p.solutions, None, objective=p.objective, best_bound=p.best_bound, gap=p.gap,
               elapsed_s=p.elapsed_s)

    result = solve(roster_problem, solve_options, on_progress=progress,
                   should_stop=context.cancel_checker())
    # The last tick is the last improving roster, with the bound of that moment: the final
    # bound (an OPTIMAL proof closes the gap) replaces it, so progress never contradicts the
    # result.
    report(result.solutions, None, objective=result.objective, best_bound=result.best_bound,
           gap=result.gap, elapsed_s=result.wall_time_s, status=str(result.status), final=True)
    return result.model_dump(mode="json")
