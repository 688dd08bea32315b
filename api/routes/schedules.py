"""Schedules: list code and user schedules, create, run now, pause/resume, delete.

Every route is async on the asyncio Redis client; a blocking kind's submit runs in the
threadpool (``api.job_kinds.asubmit_job``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from api.deps import AppSettings, IdempotencyKey, Service
from api.errors import HttpProblem
from api.job_kinds import asubmit_job, parse_job
from api.schemas.schedules import (
    LeaderView,
    RunAccepted,
    RunView,
    ScheduleList,
    SchedulePatch,
    ScheduleView,
)
from config import queues as q
from config.settings import Settings
from pools.scheduling.code import code_schedules
from pools.scheduling.lease import LEADER_KEY, read_leader
from pools.scheduling.ledger import FENCED_KEY, Ledger, decode_runs, new_run, outcome
from pools.scheduling.model import NAME_PATTERN, Schedule, ScheduleSpec
from pools.scheduling.store import AsyncScheduleStore
from pools.scheduling.timing import next_run
from pools.service import JobService

router = APIRouter(prefix="/v1/schedules", tags=["schedules"])

Name = Annotated[str, Path(pattern=NAME_PATTERN, examples=["nightly-report"])]
Runs = Annotated[int, Query(ge=0, le=100, description="Last runs to show per schedule.")]

_EXAMPLE = {"name": "diag-every-minute", "cron": "* * * * *", "timezone": "Europe/Paris",
            "job": {"kind": "diag", "body": {"mode": "ok"}}, "missed": "run_once"}


class _Ctx:
    """The store, ledger and settings a request needs (made once per app)."""

    def __init__(self, service: JobService, settings: Settings) -> None:
        self.client = service.async_redis()
        self.store = AsyncScheduleStore(self.client)
        self.ledger = Ledger(self.client, settings.schedules.ledger_size)
        self.settings, self.service = settings, service
        self.code = code_schedules(settings)


async def _ctx(request: Request) -> _Ctx:
    ctx = getattr(request.app.state, "schedules", None)
    if ctx is None:
        ctx = request.app.state.schedules = _Ctx(request.app.state.service,
                                                 request.app.state.settings)
    return ctx


@router.post("", status_code=201, response_model=ScheduleView, summary="Create a schedule",
             description="`cron` (read in `timezone`) or `every_s`; `job` is any kind the API "
             "accepts with the body its own submit route takes. Bad cron, time zone or body: "
             "422 naming the field; a name taken: 409.",
             openapi_extra={"requestBody": {"content": {"application/json": {
                 "example": _EXAMPLE}}}})
async def create_schedule(spec: ScheduleSpec, request: Request,
                          settings: AppSettings) -> ScheduleView:
    ctx = await _ctx(request)
    if spec.name in ctx.code:
        raise HttpProblem(409, f"schedule {spec.name!r} is fixed in code; choose another name")
    parse_job(spec.job.kind, spec.job.body, settings)
    schedule = Schedule(**spec.model_dump(), origin="user", created_at=time.time())
    created = await ctx.store.create(schedule, settings.schedules.max_user_schedules)
    if created == 0:
        raise HttpProblem(409, f"a schedule named {spec.name!r} exists; delete it first")
    if created < 0:
        raise HttpProblem(409, f"{settings.schedules.max_user_schedules} user schedules exist, "
                               f"the limit (schedules.max_user_schedules); delete one first")
    return (await _views(ctx, {schedule.name: schedule}, 0))[0]


@router.get("", response_model=ScheduleList, summary="List code and user schedules")
async def list_schedules(request: Request, runs: Runs = 5) -> ScheduleList:
    ctx = await _ctx(request)
    schedules = {**ctx.code, **await ctx.store.user_schedules()}
    leader = read_leader(await ctx.client.hgetall(LEADER_KEY))
    return ScheduleList(leader=LeaderView(**leader) if leader else None,
                        fenced_sends=int(await ctx.client.get(FENCED_KEY) or 0),
                        schedules=await _views(ctx, schedules, runs))


@router.get("/{name}", response_model=ScheduleView, summary="One schedule and its runs")
async def get_schedule(name: Name, request: Request, runs: Runs = 20) -> ScheduleView:
    ctx = await _ctx(request)
    return (await _views(ctx, {name: await _find(ctx, name)}, runs))[0]


@router.post("/{name}/run", status_code=202, response_model=RunAccepted,
             summary="Run a schedule's job now", description="Also while it is paused; the "
             "run is recorded in its ledger as `manual`.")
async def run_schedule(name: Name, request: Request, service: Service, settings: AppSettings,
                       key: IdempotencyKey) -> RunAccepted:
    ctx = await _ctx(request)
    schedule = await _find(ctx, name)
    if schedule.origin == "code":
        sub = await service.asubmit(schedule.actor, kind=schedule.job.kind,
                                    idempotency_key=key, summary={"schedule": name})
        job_id = sub.job["id"]
    else:
        job_id = await asubmit_job(service, settings, schedule.job.kind, schedule.job.body, key)
    now = time.time()
    entry = new_run(now, "manual", state="sent", job_id=job_id, sent=now)
    await ctx.ledger.record(name, entry)
    return RunAccepted(job_id=job_id, run=_run_view(entry, {"status": "queued"}),
                       links={"job": f"/v1/jobs/{job_id}", "schedule": f"/v1/schedules/{name}"})


@router.patch("/{name}", response_model=ScheduleView, summary="Pause or resume a schedule")
async def patch_schedule(name: Name, patch: SchedulePatch, request: Request) -> ScheduleView:
    ctx = await _ctx(request)
    schedule = await _find(ctx, name)
    if not await ctx.store.set_paused(name, patch.paused, await ctx.store.now_ms(),
                                      user=schedule.origin == "user"):
        raise HttpProblem(404, f"no schedule named {name!r}")
    return (await _views(ctx, {name: schedule}, 5))[0]


@router.delete("/{name}", status_code=204, summary="Delete a user schedule",
               description="Schedules fixed in code cannot be deleted (409); pause them.")
async def delete_schedule(name: Name, request: Request) -> Response:
    ctx = await _ctx(request)
    if name in ctx.code:
        raise HttpProblem(409, f"schedule {name!r} is fixed in code and cannot be deleted; "
                               f"pause it with PATCH {{\"paused\": true}}")
    if not await ctx.store.delete(name):
        raise HttpProblem(404, f"no schedule named {name!r}")
    return Response(status_code=204)


async def _find(ctx: _Ctx, name: str) -> Schedule:
    schedule = ctx.code.get(name) or await ctx.store.user_schedule(name)
    if schedule is None:
        raise HttpProblem(404, f"no schedule named {name!r}")
    return schedule


async def _views(ctx: _Ctx, schedules: dict[str, Schedule], runs: int) -> list[ScheduleView]:
    names = list(schedules)
    states = await ctx.store.states(names)
    now = await ctx.store.now_ms()
    entries: list[list[dict[str, Any]]] = [[] for _ in names]
    if runs:
        pipe = ctx.client.pipeline(transaction=False)
        for name in names:
            await ctx.ledger.runs(name, runs, client=pipe)  # queues it (asyncio scripts)
        entries = [decode_runs(raw) for raw in await pipe.execute()]
    jobs = await _job_statuses(ctx, [e["job_id"] for es in entries for e in es if e["job_id"]])
    grace = round(ctx.settings.schedules.misfire_grace_s * 1000)
    views = []
    for name, found in zip(names, entries, strict=True):
        schedule, state = schedules[name], states[name]
        anchor = state["anchor_ms"] if state["anchor_ms"] is not None else now
        upcoming = (None if state["paused"] else
                    next_run(schedule, anchor, state["last_planned_ms"], now, grace) / 1000)
        views.append(ScheduleView(
            **schedule.model_dump(include={"name", "origin", "cron", "timezone", "every_s",
                                           "job", "missed"}),
            paused=state["paused"], next_run=upcoming, next_run_at=_iso(upcoming),
            last_runs=[_run_view(e, jobs.get(e["job_id"])) for e in found]))
    return views


async def _job_statuses(ctx: _Ctx, job_ids: list[str]) -> dict[str, dict[str, Any] | None]:
    if not job_ids:
        return {}
    pipe = ctx.client.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.hget(q.job_key(job_id), "status")
    found = await pipe.execute()
    return {job_id: ({"status": status.decode()} if status else None)
            for job_id, status in zip(job_ids, found, strict=True)}


def _run_view(entry: dict[str, Any], job: dict[str, Any] | None) -> RunView:
    return RunView(id=entry["id"], trigger=entry["trigger"], planned=entry["planned"],
                   planned_at=_iso(entry["planned"]), sent=entry.get("sent"),
                   job_id=entry.get("job_id"), missed=entry.get("missed", 0),
                   outcome=outcome(entry, job), error=entry.get("error"),
                   holder=entry.get("holder"))


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()
