"""Random roster problems that use every field of the schema (for the conformance tests)."""

from __future__ import annotations

import datetime as dt
import random

from actors.solve.schema import RosterProblem


def random_problem(seed: int) -> RosterProblem:
    """A small problem drawn from ``seed``: a start date, several shift types of different
    lengths with rotation bans, staff with every contract field (some loose, some tight),
    skills, days off, repeated and plain on/off requests, and cover rows with and without a
    skill (two rows may share a day and shift), with varied weights."""
    rng = random.Random(seed)
    days = rng.choice([7, 10, 14, 21])
    n_shifts = rng.randint(1, 3)
    shift_ids = ["E", "D", "L"][:n_shifts]
    lengths = {s: rng.choice([240, 480, 600]) for s in shift_ids}
    shifts = [{"id": s, "length_minutes": lengths[s],
               "cannot_follow": [t for t in shift_ids if t != s and rng.random() < 0.3]}
              for s in shift_ids]
    skills = ["rn", "lead"]
    staff = []
    for i in range(rng.randint(3, 6)):
        longest = max(lengths.values())
        most = days * longest
        max_total = rng.randint(most // 3, most) if rng.random() < 0.8 else None
        min_total = rng.randint(0, (max_total or most) // 3) if rng.random() < 0.7 else 0
        staff.append({
            "id": f"S{i}",
            "max_shifts": {s: rng.randint(0, days) for s in shift_ids if rng.random() < 0.5},
            "min_total_minutes": min_total, "max_total_minutes": max_total,
            "max_consecutive_shifts": rng.choice([None, 3, 5, 6]),
            "min_consecutive_shifts": rng.choice([1, 1, 2]),
            "min_consecutive_days_off": rng.choice([1, 1, 2]),
            "max_weekends": rng.choice([None, 0, 1, 2]),
            "days_off": sorted(rng.sample(range(days), rng.randint(0, 2))),
            "skills": [k for k in skills if rng.random() < 0.5],
        })
    requests = {"shift_on_requests": [], "shift_off_requests": []}
    for kind in requests:
        for _ in range(rng.randint(0, 2 * len(staff))):
            requests[kind].append({"staff_id": rng.choice(staff)["id"], "day": rng.randrange(days),
                                   "shift_id": rng.choice(shift_ids),
                                   "weight": rng.randint(0, 3)})
    if requests["shift_on_requests"]:  # a request given twice counts twice
        requests["shift_on_requests"].append(dict(requests["shift_on_requests"][0]))
    cover = []
    for d in range(days):
        for s in shift_ids:
            if rng.random() < 0.8:
                cover.append({"day": d, "shift_id": s, "requirement": rng.randint(0, 3),
                              "weight_under": rng.choice([1, 50, 100]),
                              "weight_over": rng.choice([0, 1, 5])})
            if rng.random() < 0.3:
                cover.append({"day": d, "shift_id": s, "requirement": rng.randint(0, 2),
                              "weight_under": rng.choice([10, 100]), "weight_over": 1,
                              "skill": rng.choice(skills)})
    start = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(7))
    return RosterProblem.model_validate({
        "name": f"random-{seed}", "horizon": {"days": days, "start_date": start.isoformat()},
        "shifts": shifts, "staff": staff, "cover": cover, **requests})
