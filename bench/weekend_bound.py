"""A lower bound on the weekend shifts an instance must leave short, from its staff's weekends.

Every member may work at most ``max_weekends`` weekends, and a weekend worked gives at most one
shift on each of its two days. Per weekend with day totals ``a`` and ``b`` (every cover row's
requirement summed over shift types, skills ignored), ``n`` members working it cover at most
``min(a, n) + min(b, n)``: the first ``min(a, b)`` members two shifts each, the next ``|a - b|``
one each. Handing the staff's weekends out by that gain (two first, then one) gives the most
weekend shifts any roster can cover, so the demand minus that is a bound on the weekend shifts
short (each at its row's ``weight_under``). It ignores shift types, skills and every other
rule, so it is loose; it says how much of a roster's shortfall the weekends force.

    .venv/bin/python bench/weekend_bound.py --data ../shared/benchmarks/shift_scheduling \\
        --instances 13,20,22
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actors.solve.constraints import weekend_days  # noqa: E402
from actors.solve.reader import parse_problem_text  # noqa: E402
from actors.solve.schema import RosterProblem  # noqa: E402
from bench.solve import parse_range  # noqa: E402


def weekend_bound(problem: RosterProblem) -> dict[str, int]:
    """Weekend demand, the staff's weekends, and the least weekend shifts left short."""
    demand = [0] * problem.horizon.days
    for row in problem.cover:
        demand[row.day] += row.requirement
    weekends = [(demand[sat], demand[sun])  # (whole weekends: the horizon may cut one)
                for sat, sun in (days for days in weekend_days(problem) if len(days) == 2)]
    allowed = sum(len(weekends) if st.max_weekends is None else st.max_weekends
                  for st in problem.staff)
    both = sum(min(a, b) for a, b in weekends)  # members covering two shifts each
    one = sum(abs(a - b) for a, b in weekends)  # ... then one each
    covered = 2 * min(allowed, both) + min(max(0, allowed - both), one)
    total = sum(a + b for a, b in weekends)
    return {"weekends": len(weekends), "staff_weekends": allowed, "weekend_demand": total,
            "most_covered": covered, "least_short": total - covered}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "tests" / "data" / "shift_scheduling"))
    ap.add_argument("--instances", default="1-8")
    args = ap.parse_args()
    print("| inst | weekends | staff weekends | weekend demand | most covered | least short |")
    print("|---|---|---|---|---|---|")
    for n in parse_range(args.instances):
        text = (Path(args.data) / f"Instance{n}.txt").read_text()
        b = weekend_bound(parse_problem_text(text))
        print(f"| {n} | {b['weekends']} | {b['staff_weekends']} | {b['weekend_demand']} "
              f"| {b['most_covered']} | {b['least_short']} |")


if __name__ == "__main__":
    main()
