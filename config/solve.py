"""Settings section for the rostering solver (mounted by the lead as ``settings.solve``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SolveSettings(BaseModel):
    default_time_limit_s: float = Field(
        default=60.0, gt=0, description="Search time limit when the request gives none."
    )
    max_time_limit_s: float = Field(
        default=600.0, gt=0, description="Largest time limit a request may ask for."
    )
    default_workers: int | None = Field(
        default=None, ge=1,
        description="CP-SAT search workers when the request gives none; None: the process's cores.",
    )
    max_workers: int = Field(default=8, ge=1, description="Most search workers a request may use.")
    max_staff: int = Field(default=500, ge=1, description="Most staff members in a problem.")
    max_days: int = Field(default=366, ge=1, description="Longest planning horizon in days.")
    max_shift_types: int = Field(default=20, ge=1, description="Most shift types in a problem.")
    max_cells: int = Field(
        default=500_000, ge=1,
        description="Most decision cells (staff x days x shift types) in a problem.",
    )
    max_requests: int = Field(
        default=200_000, ge=1, description="Most shift on/off requests plus cover rows."
    )
    max_text_bytes: int = Field(
        default=5_000_000, ge=1, description="Largest benchmark-text or JSON body accepted."
    )
