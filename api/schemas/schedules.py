"""Schedule request and response schemas (the request itself is ``ScheduleSpec``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pools.scheduling.model import JobSpec, Missed, Origin


class RunView(BaseModel):
    id: str
    trigger: str = Field(description="tick, catch_up (run_once for missed ticks), missed "
                         "(skipped ticks) or manual (run now).")
    planned: float = Field(description="Planned time (epoch seconds).")
    planned_at: str
    sent: float | None = Field(None, description="When its job was submitted.")
    job_id: str | None = None
    missed: int = Field(0, description="Ticks this run stands for that no scheduler sent.")
    outcome: str = Field(description="The job's status (queued, running, succeeded, failed, "
                         "…; expired once its record is gone), or skipped / error / claimed.")
    error: str | None = None
    holder: str | None = Field(None, description="The scheduler that sent it.")


class ScheduleView(BaseModel):
    name: str
    origin: Origin = Field(description="user, or code (fixed in code: not deletable).")
    cron: str | None = None
    timezone: str
    every_s: float | None = None
    job: JobSpec
    missed: Missed
    paused: bool
    next_run: float | None = Field(None, description="Next send (epoch seconds); null while "
                                   "paused.")
    next_run_at: str | None = None
    last_runs: list[RunView]


class LeaderView(BaseModel):
    holder: str | None
    token: int
    since: float


class ScheduleList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "leader": {"holder": "node-1:4121", "token": 7, "since": 1764340000.0},
        "fenced_sends": 0,
        "schedules": [{
            "name": "nightly-probe", "origin": "user", "cron": "0 3 * * *",
            "timezone": "Europe/Berlin", "every_s": None,
            "job": {"kind": "http", "body": {"url": "https://example.com/hooks/nightly"}},
            "missed": "run_once", "paused": False, "next_run": 1764385200.0,
            "next_run_at": "2026-11-29T02:00:00+00:00", "last_runs": []}]}]})

    leader: LeaderView | None = Field(description="The scheduler sending now (null: none).")
    fenced_sends: int = Field(0, description="Sends refused to a deposed leader, ever.")
    schedules: list[ScheduleView]


class SchedulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paused: bool = Field(description="true pauses, false resumes (ticks while paused are not "
                         "owed).")


class RunAccepted(BaseModel):
    job_id: str
    run: RunView
    links: dict[str, Any]
