"""HTTP jobs: call a URL at a set time, with a timeout, retries and an attempt history."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import IdempotencyKey, JobId, Service
from api.errors import HttpProblem
from api.fastpath import fast_submit
from api.job_kinds import JobKind
from api.schemas.http import HttpJobRequest, job_arguments
from api.schemas.jobs import Accepted, accepted_body
from config.settings import Settings
from pools.errors import PermanentError
from pools.service import JobService, Submission

router = APIRouter(prefix="/v1/http", tags=["http"])


@router.post("", status_code=202, response_model=Accepted, summary="Submit an HTTP job",
             description="The worker calls `url` (no internal addresses unless "
             "`http.allowed_networks` allows them) within `timeout_s`, retrying transport "
             "errors, timeouts, 5xx and 429 with backoff (a `Retry-After` is honoured) up to "
             "`max_retries` times; other statuses outside `expect_status` fail at once. The "
             "result holds the status code, latency, response headers and the first 64 KB of "
             "the body, and every attempt.",
             responses={413: {"description": "Body too large"},
                        422: {"description": "Bad URL, internal address, limits"}},
             openapi_extra={"requestBody": {"content": {"application/json": {"example": {
                 "url": "https://api.example.com/v1/export", "method": "POST",
                 "body": {"since": "yesterday"}, "timeout_s": 60, "max_retries": 3}}}}})
async def submit_http(body: HttpJobRequest, service: Service, key: IdempotencyKey) -> Any:
    return JSONResponse(await fast_http(body, service, key), status_code=202)


@fast_submit("/v1/http", HttpJobRequest)
async def fast_http(body: HttpJobRequest, service: JobService, key: str | None) -> dict[str, Any]:
    """The 202 body (also answered by the submit fast path, ``api.fastpath``)."""
    sub = await http_job(service, service.settings, body, key)
    return accepted_body(sub.job, sub.created)


async def http_job(service: JobService, settings: Settings, body: HttpJobRequest,
                   key: str | None) -> Submission:
    """Submit ``body`` as an HTTP job (the route's and user schedules' one way in)."""
    kwargs, delay_ms = job_arguments(body, settings.http)
    return await service.asubmit(
        "http_request", kind="http", kwargs=kwargs, idempotency_key=key, delay_ms=delay_ms,
        callback_url=str(body.callback_url) if body.callback_url else None,
        summary={"method": body.method, "url": kwargs["request"]["url"]})


def _check(settings: Settings, body: HttpJobRequest) -> None:
    try:
        job_arguments(body, settings.http)
    except PermanentError as exc:
        raise HttpProblem(exc.http_status, exc.message, type=exc.kind) from None


#: Kind ``http`` for user schedules (``api.job_kinds``).
JOB_KIND = JobKind(HttpJobRequest, http_job, _check)


@router.get("/{job_id}/attempts", summary="Every attempt of an HTTP job",
            description="Newest last: start time, status code or error, latency, and the "
            "retry delay a 5xx/429/timeout led to.")
async def http_attempts(job_id: JobId, service: Service) -> list[dict[str, Any]]:
    from actors.http.runtime import attempts_key

    raw = await service.async_redis().lrange(attempts_key(job_id), 0, -1)
    return [json.loads(item) for item in raw]
