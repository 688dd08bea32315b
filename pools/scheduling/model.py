"""What a schedule is: a name, when (a cron line in a time zone, or every N seconds), the job it
starts (a kind the API accepts and that kind's request body) and what to do with missed ticks."""

from __future__ import annotations

from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Missed = Literal["skip", "run_once"]
Origin = Literal["user", "code"]
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
CRON_ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


class JobSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=64, examples=["diag"],
                      description="A kind the API accepts: solve, scrape, diag, http, reindex.")
    body: dict[str, Any] = Field(default_factory=dict, examples=[{"mode": "ok"}],
                                 description="The body that kind's submit route takes.")


class ScheduleSpec(BaseModel):
    """A schedule as a client creates it (``POST /v1/schedules``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, examples=["nightly-report"],
                      description="Lower-case letters, digits, '.', '_' and '-'; 64 at most.")
    cron: str | None = Field(None, max_length=200, examples=["0 3 * * *"],
                             description="Five-field cron line (or @hourly, @daily, …).")
    timezone: str = Field("UTC", max_length=64, examples=["Europe/Paris"],
                          description="IANA time zone the cron line is read in.")
    every_s: float | None = Field(None, ge=1, le=366 * 86_400, examples=[300],
                                  description="Instead of cron: every this many seconds from "
                                  "the schedule's creation.")
    job: JobSpec
    missed: Missed = Field("skip", description="Ticks missed while no scheduler ran: `skip` "
                           "them, or `run_once` for all of them.")

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        if not cron_valid(value):
            raise ValueError(f"{value!r} is not a cron line: five fields (minute hour "
                             f"day-of-month month day-of-week) or one of {', '.join(CRON_ALIASES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as "
                             f"'Europe/Paris' or 'UTC')") from None
        return value

    @model_validator(mode="after")
    def _one_timing(self) -> ScheduleSpec:
        if (self.cron is None) == (self.every_s is None):
            raise ValueError("give exactly one of 'cron' and 'every_s'")
        return self


class Schedule(ScheduleSpec):
    """A stored schedule: a user's, or one fixed in code (which sends ``actor``)."""

    origin: Origin = "user"
    created_at: float = 0.0
    actor: str | None = None

    @property
    def created_ms(self) -> int:
        return round(self.created_at * 1000)

    def when(self) -> str:
        return (f"cron '{self.cron}' ({self.timezone})" if self.cron
                else f"every {self.every_s:g} s")


def cron_valid(line: str) -> bool:
    from croniter import croniter

    if line.startswith("@"):
        return line in CRON_ALIASES
    return len(line.split()) == 5 and croniter.is_valid(line)
