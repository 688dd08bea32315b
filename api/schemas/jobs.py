"""Job schemas: what clients see of a job record."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["queued", "running", "retrying", "succeeded", "failed", "dead", "cancelled"]


class JobError(BaseModel):
    type: str = Field(examples=["permanent"])
    message: str = Field(examples=["cover day 3 shift D needs 2 staff, 1 exists"])


class Children(BaseModel):
    total: int
    done: int
    succeeded: int = 0
    failed: int = 0
    dead: int = 0
    cancelled: int = 0
    completed: int = Field(0, description="Children that succeeded.")
    blocked: int = Field(0, description="Children refused by the target (robots, 401/403, "
                                        "a refused address).")
    by_error: dict[str, int] = Field(default_factory=dict, examples=[{"blocked": 2}])
    ids: list[str] = Field(default_factory=list)


class Job(BaseModel):
    id: str = Field(examples=["3f0c6c1e4b8a4f7f9d0e2a1b5c6d7e8f"])
    kind: str = Field(examples=["solve"])
    status: Status
    attempts: int = 0
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    eta: float | None = Field(None, description="When a delayed job becomes due.")
    progress: dict[str, Any] | None = Field(
        None, examples=[{"done": 3, "total": 10, "objective": 812}])
    error: JobError | None = None
    parent_id: str | None = None
    children: Children | None = None
    idempotency_key: str | None = None
    callback_url: str | None = None
    cancel_requested: bool = False
    summary: dict[str, Any] | None = None
    links: dict[str, str] = Field(default_factory=dict)

    model_config = {"json_schema_extra": {"examples": [{
        "id": "3f0c6c1e4b8a4f7f9d0e2a1b5c6d7e8f", "kind": "diag", "status": "succeeded",
        "attempts": 1, "created_at": 1.76e9, "started_at": 1.76e9, "finished_at": 1.76e9,
        "links": {"self": "/v1/jobs/3f0c…", "result": "/v1/jobs/3f0c…/result"}}]}}


class JobPage(BaseModel):
    items: list[Job]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


class Accepted(BaseModel):
    """202 answer: the job (or batch) was accepted and will run."""

    job_id: str
    status: Status
    created: bool = Field(True, description="False when an Idempotency-Key matched.")
    links: dict[str, str]


class JobResult(BaseModel):
    job_id: str
    status: Status
    result: Any = Field(examples=[{"status": "OPTIMAL", "objective": 607}])


def to_job(record: dict[str, Any], child_ids: list[str] | None = None) -> Job:
    job_id = record["id"]
    error = None
    if record.get("error_type"):
        error = JobError(type=record["error_type"], message=record.get("error_message", ""))
    children = None
    if record.get("children_total"):
        children = Children(
            total=record["children_total"], done=record.get("children_done", 0),
            succeeded=record.get("children_succeeded", 0),
            failed=record.get("children_failed", 0), dead=record.get("children_dead", 0),
            cancelled=record.get("children_cancelled", 0),
            completed=record.get("children_succeeded", 0),
            blocked=sum(v for k, v in record.items()
                        if k.startswith("errors_") and k.endswith("blocked")),
            by_error={k.removeprefix("errors_"): v for k, v in record.items()
                      if k.startswith("errors_")},
            ids=child_ids or [],
        )
    links = {"self": f"/v1/jobs/{job_id}", "result": f"/v1/jobs/{job_id}/result"}
    if record.get("parent_id"):
        links["parent"] = f"/v1/jobs/{record['parent_id']}"
    return Job(
        id=job_id, kind=record["kind"], status=record["status"],
        attempts=record.get("attempts", 0), created_at=record["created_at"],
        started_at=record.get("started_at"), finished_at=record.get("finished_at"),
        eta=record.get("eta"), progress=record.get("progress"), error=error,
        parent_id=record.get("parent_id"), children=children,
        idempotency_key=record.get("idempotency_key"),
        callback_url=record.get("callback_url"),
        cancel_requested=bool(record.get("cancel_requested")), summary=record.get("summary"),
        links=links,
    )


def accepted_body(record: dict[str, Any], created: bool = True) -> dict[str, Any]:
    job_id = record["id"]
    return {"job_id": job_id, "status": record["status"], "created": created,
            "links": {"self": f"/v1/jobs/{job_id}", "result": f"/v1/jobs/{job_id}/result"}}


def accepted(record: dict[str, Any], created: bool = True) -> Accepted:
    return Accepted(**accepted_body(record, created))
