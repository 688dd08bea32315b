"""The job kinds a schedule may start: each kind's request schema and submit function.

A schedule's job is ``{"kind", "body"}`` where the body is what that kind's submit route takes:
it is validated with the same pydantic schema (and the same deeper checks) and submitted through
the same function the route calls. :data:`KINDS` names where each kind's :class:`JobKind` lives;
adding a kind is one line there. A kind whose module is not in this build is not offered.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from api.errors import HttpProblem
from api.schemas.scrape import ScrapeRequest
from api.schemas.solve import SolveRequest
from api.schemas.submit import DiagRequest
from config.settings import Settings
from pools.service import JobService, Submission


@dataclass(frozen=True)
class JobKind:
    """``submit(service, settings, body, idempotency_key)`` returns the route's 202 body, an
    ``Accepted`` or a ``Submission`` (sync or async); ``check(settings, body)`` raises
    ``HttpProblem`` for what the schema cannot see (limits, a problem's own fields)."""

    schema: type[BaseModel]
    submit: Callable[..., Any]
    check: Callable[[Settings, Any], None] | None = None


#: kind → "module:attribute" of its JobKind.
KINDS: dict[str, str] = {
    "solve": "api.job_kinds:SOLVE",
    "scrape": "api.job_kinds:SCRAPE",
    "diag": "api.job_kinds:DIAG",
    "http": "api.routes.http:JOB_KIND",
    "reindex": "api.routes.reindex:JOB_KIND",
}


def _solve_submit(service: JobService, settings: Settings, body: Any, key: str | None) -> Any:
    from api.routes.solve import submit_request

    return submit_request(service, settings, body, key)


def _solve_check(settings: Settings, body: Any) -> None:
    from api.routes.solve import checked_problem

    checked_problem(body, settings)


def _scrape_submit(service: JobService, settings: Settings, body: Any, key: str | None) -> Any:
    from api.routes.scrape import submit_scrape

    return submit_scrape(body, service, settings, key)


def _scrape_check(settings: Settings, body: Any) -> None:
    from api.routes.scrape import checked_domains

    checked_domains(body, settings)


async def _diag_submit(service: JobService, settings: Settings, body: Any,
                       key: str | None) -> Any:
    from api.routes.diag import diag_job

    return await diag_job(body, service, key)


SOLVE = JobKind(SolveRequest, _solve_submit, _solve_check)
SCRAPE = JobKind(ScrapeRequest, _scrape_submit, _scrape_check)
DIAG = JobKind(DiagRequest, _diag_submit)


@cache
def job_kind(kind: str) -> JobKind | None:
    where = KINDS.get(kind)
    if where is None:
        return None
    module, _, attribute = where.partition(":")
    try:
        return getattr(importlib.import_module(module), attribute)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise
    except AttributeError:
        return None


def available() -> list[str]:
    return [kind for kind in KINDS if job_kind(kind) is not None]


def parse_job(kind: str, body: dict[str, Any], settings: Settings) -> tuple[JobKind, Any]:
    """The kind and its validated body; 422 naming ``job.kind`` or the ``job.body`` field."""
    found = job_kind(kind)
    if found is None:
        raise HttpProblem(422, f"invalid request: job.kind: unknown kind {kind!r}; one of "
                               f"{', '.join(available())}",
                          details=[{"field": "job.kind", "message": "unknown kind"}])
    try:
        parsed = found.schema.model_validate(body)
    except ValidationError as exc:
        details = [{"field": ".".join(["job", "body", *map(str, e["loc"])]),
                    "message": e["msg"]} for e in exc.errors()]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        raise HttpProblem(422, f"invalid request: {summary}", details=details) from None
    if found.check is not None:
        try:
            found.check(settings, parsed)
        except HttpProblem as exc:
            raise _in_body(exc) from None
    return found, parsed


def _in_body(exc: HttpProblem) -> HttpProblem:
    """The same problem, its fields named from the schedule's root (``job.body.…``)."""
    extra, message = dict(exc.extra), f"job.body: {exc.message}"
    if isinstance(extra.get("details"), list):
        extra["details"] = [d | {"field": f"job.body.{d['field']}"} for d in extra["details"]]
        message = "invalid request: " + "; ".join(f"{d['field']}: {d['message']}"
                                                  for d in extra["details"])
    return HttpProblem(exc.status, message, exc.headers, **extra)


def job_id_of(answer: Any) -> str:
    if isinstance(answer, Submission):
        return answer.job["id"]
    if isinstance(answer, dict):
        return answer["job_id"]
    return answer.job_id


def submit_job(service: JobService, settings: Settings, kind: str, body: dict[str, Any],
               key: str | None) -> str:
    """Submit from a blocking caller (the scheduler); the job id."""
    found, parsed = parse_job(kind, body, settings)
    answer = found.submit(service, settings, parsed, key)
    if inspect.isawaitable(answer):
        answer = asyncio.run_coroutine_threadsafe(answer, _loop()).result()
    return job_id_of(answer)


async def asubmit_job(service: JobService, settings: Settings, kind: str,
                      body: dict[str, Any], key: str | None) -> str:
    """Submit from an async route: async kinds awaited, blocking ones in the threadpool."""
    found, parsed = parse_job(kind, body, settings)
    if inspect.iscoroutinefunction(found.submit):
        answer = await found.submit(service, settings, parsed, key)
    else:
        answer = await run_in_threadpool(found.submit, service, settings, parsed, key)
    return job_id_of(answer)


@cache
def _loop() -> asyncio.AbstractEventLoop:
    """One event loop thread for async kinds in a blocking process (their asyncio Redis
    client belongs to the loop that made it, so always the same one)."""
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="job-kinds-loop", daemon=True).start()
    return loop
