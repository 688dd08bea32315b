"""Jobs: status, result, listing, retry, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AppSettings, JobId, Service
from api.errors import HttpProblem
from api.schemas.jobs import Job, JobPage, JobResult, Status, to_job
from pools.jobs import STATUSES
from pools.service import ResultExpired

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=Job, summary="A job's status, progress and error",
            responses={404: {"description": "Unknown job",
                             "content": {"application/json": {"example": {
                                 "error": "no job with id 'nope'"}}}}})
def get_job(job_id: JobId, service: Service) -> Job:
    record = service.get(job_id)
    children = service.store.children(job_id) if record.get("children_total") else None
    return to_job(record, children)


@router.get("/{job_id}/result", response_model=JobResult, summary="A finished job's result",
            responses={409: {"description": "The job has no result (yet)"}})
def get_result(job_id: JobId, service: Service) -> JobResult:
    record = service.get(job_id)
    if record.get("children_total"):
        return JobResult(job_id=job_id, status=record["status"],
                         result=_batch_result(service, job_id))
    return JobResult(job_id=job_id, status=record["status"], result=service.result(job_id))


def _batch_result(service: Service, job_id: str) -> list[dict]:
    out = []
    for child in service.store.get_many(service.store.children(job_id)):
        entry = {"job_id": child["id"], "status": child["status"],
                 "summary": child.get("summary")}
        if child.get("has_result"):
            try:
                entry["result"] = service.result(child["id"])
            except ResultExpired as exc:
                entry["error"] = {"type": "result_expired", "message": str(exc)}
        elif child.get("error_type"):
            entry["error"] = {"type": child["error_type"], "message": child.get("error_message")}
        out.append(entry)
    return out


@router.get("", response_model=JobPage, summary="Jobs, newest first")
def list_jobs(
    service: Service, settings: AppSettings,
    kind: Annotated[str | None, Query(max_length=64, examples=["solve"])] = None,
    status: Annotated[Status | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^\d+$")] = None,
) -> JobPage:
    if status is not None and status not in STATUSES:
        raise HttpProblem(422, f"unknown status {status!r}")
    page = service.store.list(kind=kind, status=status,
                              limit=min(limit, settings.api.max_list_limit), cursor=cursor)
    return JobPage(items=[to_job(r) for r in page.items], next_cursor=page.next_cursor)


@router.post("/{job_id}/retry", response_model=Job, summary="Run a failed or dead job again",
             responses={409: {"description": "The job is not failed or dead"}})
def retry_job(job_id: JobId, service: Service) -> Job:
    return to_job(service.retry(job_id))


@router.post("/{job_id}/cancel", response_model=Job, summary="Cancel a job",
             description="Queued and delayed jobs never run; running jobs are told to stop "
                         "and keep what they have (the solver returns its best roster).",
             responses={409: {"description": "The job already finished"}})
def cancel_job(job_id: JobId, service: Service) -> Job:
    return to_job(service.cancel(job_id))
