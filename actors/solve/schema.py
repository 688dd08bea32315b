"""Roster problem, solve options, progress and result models (JSON-serialisable pydantic).

The problem is a superset of the Shift Scheduling Benchmark (Curtois & Qu): it adds an optional
start date (weekends follow its weekday; without it day 0 is a Monday), staff skills and an
optional skill on cover rows (only staff holding the skill count toward such a row).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

Assignments = dict[str, list[str | None]]
"""Per staff id, one entry per day: the shift id worked that day, or ``None`` for a day off."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Horizon(_Model):
    days: int = Field(ge=1, description="Number of days in the planning horizon.")
    start_date: dt.date | None = Field(
        default=None, description="Calendar date of day 0; without it day 0 is a Monday."
    )

    def first_weekday(self) -> int:
        """Weekday of day 0 (Monday = 0)."""
        return self.start_date.weekday() if self.start_date else 0


class ShiftType(_Model):
    id: str = Field(min_length=1)
    length_minutes: int = Field(gt=0, description="Length of the shift in minutes.")
    cannot_follow: list[str] = Field(
        default_factory=list,
        description="Shift ids that may not be worked the day after this shift.",
    )


class Staff(_Model):
    id: str = Field(min_length=1)
    max_shifts: dict[str, int] = Field(
        default_factory=dict,
        description="Per shift id, the most shifts of that type over the horizon (absent: any).",
    )
    min_total_minutes: int = Field(default=0, ge=0)
    max_total_minutes: int | None = Field(default=None, ge=0)
    max_consecutive_shifts: int | None = Field(default=None, ge=1)
    min_consecutive_shifts: int = Field(default=1, ge=1)
    min_consecutive_days_off: int = Field(default=1, ge=1)
    max_weekends: int | None = Field(default=None, ge=0)
    days_off: list[int] = Field(default_factory=list, description="Days with no shift allowed.")
    skills: list[str] = Field(default_factory=list)


class ShiftRequest(_Model):
    staff_id: str
    day: int = Field(ge=0)
    shift_id: str
    weight: int = Field(ge=0)


class CoverRequirement(_Model):
    day: int = Field(ge=0)
    shift_id: str
    requirement: int = Field(ge=0)
    weight_under: int = Field(default=100, ge=0)
    weight_over: int = Field(default=1, ge=0)
    skill: str | None = Field(default=None, description="Only staff with this skill count.")


class RosterProblem(_Model):
    name: str | None = None
    horizon: Horizon
    shifts: list[ShiftType] = Field(min_length=1)
    staff: list[Staff] = Field(min_length=1)
    shift_on_requests: list[ShiftRequest] = Field(default_factory=list)
    shift_off_requests: list[ShiftRequest] = Field(default_factory=list)
    cover: list[CoverRequirement] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references_are_consistent(self) -> RosterProblem:
        shift_ids = _unique([s.id for s in self.shifts], "shift id")
        staff_ids = _unique([e.id for e in self.staff], "staff id")
        days = self.horizon.days
        for s in self.shifts:
            _known(s.cannot_follow, shift_ids, f"shift {s.id}: cannot_follow")
        for e in self.staff:
            _known(list(e.max_shifts), shift_ids, f"staff {e.id}: max_shifts")
            if any(n < 0 for n in e.max_shifts.values()):
                raise ValueError(f"staff {e.id}: max_shifts must be >= 0")
            _in_horizon(e.days_off, days, f"staff {e.id}: days_off")
            if e.max_total_minutes is not None and e.max_total_minutes < e.min_total_minutes:
                raise ValueError(f"staff {e.id}: max_total_minutes < min_total_minutes")
        for kind, reqs in (("shift_on_requests", self.shift_on_requests),
                           ("shift_off_requests", self.shift_off_requests)):
            for i, r in enumerate(reqs):
                where = f"{kind}[{i}]"
                _known([r.staff_id], staff_ids, where)
                _known([r.shift_id], shift_ids, where)
                _in_horizon([r.day], days, where)
        keys = Counter((c.day, c.shift_id, c.skill) for c in self.cover)
        for i, c in enumerate(self.cover):
            _known([c.shift_id], shift_ids, f"cover[{i}]")
            _in_horizon([c.day], days, f"cover[{i}]")
            if keys[(c.day, c.shift_id, c.skill)] > 1:
                raise ValueError(f"cover[{i}]: duplicate row for day {c.day} shift {c.shift_id}")
        return self


def _unique(ids: list[str], what: str) -> set[str]:
    dup = [k for k, n in Counter(ids).items() if n > 1]
    if dup:
        raise ValueError(f"duplicate {what}: {', '.join(dup)}")
    return set(ids)


def _known(ids: list[str], known: set[str], where: str) -> None:
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ValueError(f"{where}: unknown id {', '.join(unknown)}")


def _in_horizon(days: list[int], horizon: int, where: str) -> None:
    bad = [d for d in days if not 0 <= d < horizon]
    if bad:
        raise ValueError(f"{where}: day {bad[0]} outside the horizon 0..{horizon - 1}")


class SolveOptions(_Model):
    time_limit_s: float = Field(default=60.0, gt=0, description="Wall-clock limit of the search.")
    workers: int | None = Field(
        default=None, ge=1, description="CP-SAT search workers; None: the settings default."
    )
    seed: int = Field(default=0, ge=0, description="CP-SAT random seed.")
    relative_gap: float = Field(default=0.0, ge=0, description="Stop at this relative gap.")
    hint: Assignments | None = Field(
        default=None, description="Assignments of a previous solve, used as solution hints."
    )


class SolveStatus(StrEnum):
    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    UNKNOWN = "UNKNOWN"
    MODEL_INVALID = "MODEL_INVALID"


class SolveProgress(_Model):
    objective: int
    best_bound: float
    gap: float | None = Field(description="(objective - bound) / objective; None when 0/0.")
    elapsed_s: float
    solutions: int


class PenaltyBreakdown(_Model):
    shift_on_requests: int = 0
    shift_off_requests: int = 0
    under_cover: int = 0
    over_cover: int = 0

    @property
    def total(self) -> int:
        return self.shift_on_requests + self.shift_off_requests + self.under_cover + self.over_cover


class Violation(_Model):
    constraint: str = Field(description="Short name of the hard constraint broken.")
    staff_id: str | None = None
    day: int | None = None
    message: str


class CheckReport(_Model):
    feasible: bool
    violations: list[Violation] = Field(default_factory=list)
    objective: int = Field(description="Recomputed objective (also given when infeasible).")
    penalties: PenaltyBreakdown


class SolveResult(_Model):
    status: SolveStatus
    objective: int | None = None
    best_bound: float | None = None
    gap: float | None = None
    wall_time_s: float
    time_to_best_s: float | None = None
    time_to_first_s: float | None = Field(default=None, description="When the first roster came.")
    solutions: int = 0
    cancelled: bool = False
    assignments: Assignments | None = None
    penalties: PenaltyBreakdown | None = None
    conflicts: list[str] = Field(
        default_factory=list, description="Constraint groups that together are infeasible."
    )
    checked: CheckReport | None = Field(default=None, description="The checker's verdict.")
    notes: list[str] = Field(
        default_factory=list,
        description="What the solve's plan left out for this problem's size (no exact search, "
                    "no column generation, ...): the result is then unproven for that reason.")
