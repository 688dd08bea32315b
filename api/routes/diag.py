"""A diagnostic job: exercises queue, worker, retries and webhooks without a workload."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import IdempotencyKey, Service
from api.fastpath import fast_submit
from api.schemas.jobs import Accepted, accepted_body
from api.schemas.submit import DiagRequest
from pools.service import JobService

router = APIRouter(prefix="/v1/diag", tags=["diag"])


@router.post("", status_code=202, response_model=Accepted, summary="Submit a diagnostic job",
             openapi_extra={"requestBody": {"content": {"application/json": {
                 "example": {"mode": "sleep", "seconds": 2}}}}})
async def submit_diag(body: DiagRequest, service: Service, key: IdempotencyKey) -> Any:
    return JSONResponse(await diag_job(body, service, key), status_code=202)


@fast_submit("/v1/diag", DiagRequest)
async def diag_job(body: DiagRequest, service: JobService, key: str | None) -> dict[str, Any]:
    sub = await service.asubmit(
        "diag", kind="diag", kwargs={"mode": body.mode, "seconds": body.seconds,
                                     "failures": body.failures},
        idempotency_key=key, delay_ms=body.delay_ms,
        callback_url=str(body.callback_url) if body.callback_url else None,
    )
    return accepted_body(sub.job, sub.created)
