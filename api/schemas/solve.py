"""Solve request schemas (the problem itself is ``actors.solve.schema.RosterProblem``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.submit import SubmitOptions


class SolveRequestOptions(BaseModel):
    time_limit_s: float | None = Field(None, gt=0, examples=[30])
    workers: int | None = Field(None, ge=1, examples=[2])
    seed: int = Field(0, ge=0)
    relative_gap: float = Field(0.0, ge=0, examples=[0.01])
    hint_from: str | None = Field(
        None, description="Job id of an earlier solve whose roster seeds the search.")


class SolveRequest(SubmitOptions):
    problem: dict[str, Any] = Field(description="A roster problem (see the README).")
    options: SolveRequestOptions = SolveRequestOptions()

    model_config = {"json_schema_extra": {"examples": [{
        "problem": {
            "horizon": {"days": 7},
            "shifts": [{"id": "D", "length_minutes": 480}],
            "staff": [{"id": "A", "max_shifts": {"D": 7}, "max_total_minutes": 2400}],
            "cover": [{"day": 0, "shift_id": "D", "requirement": 1}]},
        "options": {"time_limit_s": 10}}]}}
