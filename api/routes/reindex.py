"""Blue/green reindex: start one, see where the alias points, roll back, clean up."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import AppSettings, IdempotencyKey, Service
from api.errors import HttpProblem
from api.job_kinds import JobKind
from api.schemas.jobs import Accepted, accepted
from api.schemas.submit import SubmitOptions
from config.settings import Settings
from pools.service import JobService, Submission

router = APIRouter(prefix="/v1/reindex", tags=["images"])


class ReindexRequest(SubmitOptions):
    """Nothing to choose: the target is the configured model (``clip`` settings)."""


def start_reindex(service: JobService, settings: Settings, body: ReindexRequest | None = None,
                  key: str | None = None) -> Submission:
    """Submit a reindex toward the configured model; 409 when one runs or nothing changed."""
    from actors.index import reindex

    return reindex.start(service, settings, key=key,
                         callback_url=str(body.callback_url) if body and body.callback_url
                         else None, delay_ms=body.delay_ms if body else None)


@router.post("", status_code=202, response_model=Accepted,
             summary="Re-embed every image into a new collection, then switch the alias",
             description="Re-embeds every stored image with the configured model into its own "
             "collection while searches keep using the live one (uploads meanwhile go to "
             "both); when every image is in and the counts match, the `images` alias switches "
             "in one step. The job's progress is images done / total. 409 when a reindex "
             "is running or the live collection already holds the configured model.",
             responses={409: {"description": "Already running, or nothing changed"}})
def submit_reindex(service: Service, settings: AppSettings, key: IdempotencyKey,
                   body: ReindexRequest | None = None) -> Accepted:
    sub = start_reindex(service, settings, body, key)
    return accepted(sub.job, sub.created)


_STATE = {"live": "vit-b-32-openai", "previous": "vit-b-16-openai", "target": None,
          "rolled_back": None}


def _example(body: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {"application/json": {"example": body}}}}


@router.get("", summary="Where the alias points, the previous collection, a running reindex",
            responses=_example({**_STATE, "configured": "vit-b-32-openai", "running": None}))
def reindex_status(service: Service, settings: AppSettings) -> dict[str, Any]:
    from actors.embed.model import model_id_for
    from actors.index import models, reindex

    client = service.store.redis
    return {**models.read_state(client), "configured": model_id_for(settings.clip),
            "running": reindex.running(client)}


@router.post("/rollback", summary="Point the alias back at the previous collection",
             description="The collection the last switch left is kept until cleanup; this "
             "makes it live again (the periodic schedule will not switch away from it by "
             "itself). 409 while a reindex runs or when there is nothing to roll back to.",
             responses=_example({"live": "images__vit-b-16-openai__512",
                                "previous": "images__vit-b-32-openai__512"}))
def rollback(service: Service) -> dict[str, Any]:
    return _admin(service, "rollback")


@router.post("/cleanup", summary="Drop the previous collection (no rollback after this)",
             responses=_example({"dropped": ["images__vit-b-16-openai__512"]}))
def cleanup(service: Service) -> dict[str, Any]:
    return _admin(service, "cleanup")


def _admin(service: JobService, op: str) -> dict[str, Any]:
    from actors.index import reindex

    holder = reindex.running(service.store.redis)
    if holder is not None:
        raise HttpProblem(409, f"a reindex is running (job {holder}); wait for it or cancel it",
                          job_id=holder)
    answer = service.call("index_admin", op, timeout_s=120)
    if answer.get("error"):
        raise HttpProblem(409, answer["error"])
    return answer


async def _submit(service: JobService, settings: Settings, body: ReindexRequest,
                  key: str | None) -> Submission:
    return await run_in_threadpool(start_reindex, service, settings, body, key)


#: Kind ``reindex`` for user schedules (``api.job_kinds``).
JOB_KIND = JobKind(ReindexRequest, _submit)
