"""Queues: depths and dead letters (list, requeue some or all, purge)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query

from api.deps import JobId, Service
from api.errors import HttpProblem
from api.schemas.ops import DeadLetter, Purged, QueueStats, Requeued, RequeueRequest
from pools.jobs import events_key

router = APIRouter(prefix="/v1/queues", tags=["queues"])

QueueName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,63}$", examples=["solve"])]
_ALL = Body(examples=[{"all": True}])


def _known(service: Service, queue: str) -> str:
    if queue not in service.admin.queues:
        raise HttpProblem(404, f"unknown queue {queue!r}; known: {list(service.admin.queues)}")
    return queue


def _targets(body: RequeueRequest) -> list[str] | None:
    if not body.all and not body.message_ids:
        raise HttpProblem(422, "name message_ids, or send all: true")
    return None if body.all else body.message_ids


def _found(done: list[str], queue: str, wanted: list[str] | None) -> list[str]:
    if wanted and not done:
        raise HttpProblem(404, f"no dead letter {', '.join(wanted)} in queue {queue!r} "
                               "(requeued or purged already?)")
    return done


def dead_letters_of(service: Service, queue: str, limit: int) -> list[dict[str, Any]]:
    """Dead letters, newest first, each with its job's last error and the traceback of its
    last attempt (the message's own is the attempt before: Dramatiq writes it on a retry)."""
    letters = service.admin.dead(queue, limit)
    records = {r["id"]: r for r in service.store.get_many(d["job_id"] for d in letters)}
    pipe = service.store.redis.pipeline(transaction=False)
    for letter in letters:
        pipe.lrange(events_key(letter["job_id"]), -3, -1)
    for letter, last in zip(letters, pipe.execute(), strict=True):
        record = records.get(letter["job_id"]) or {}
        if record.get("error_type"):
            letter["error"] = {"type": record["error_type"],
                               "message": record.get("error_message", "")}
        traces = [e["traceback"] for e in map(json.loads, last) if e.get("traceback")]
        letter["traceback"] = traces[-1] if traces else letter.get("traceback")
    return letters


@router.get("", response_model=list[QueueStats], summary="Ready, delayed, in-flight and dead "
            "messages per queue")
def list_queues(service: Service) -> list[QueueStats]:
    return [QueueStats(**s) for s in service.admin.all_stats()]


@router.get("/{queue}/dead", response_model=list[DeadLetter], summary="Dead letters, newest first")
def dead_letters(queue: QueueName, service: Service,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[DeadLetter]:
    return [DeadLetter(**d) for d in dead_letters_of(service, _known(service, queue), limit)]


@router.post("/{queue}/dead/requeue", response_model=Requeued,
             summary="Requeue dead letters (some or all)",
             responses={404: {"description": "None of the named dead letters is there"}})
def requeue(queue: QueueName, service: Service,
            body: Annotated[RequeueRequest, _ALL]) -> Requeued:
    ids = _targets(body)
    return Requeued(requeued=_found(service.requeue_dead(_known(service, queue), ids),
                                    queue, ids))


@router.post("/{queue}/dead/{message_id}/requeue", response_model=Requeued,
             summary="Requeue one dead letter",
             responses={404: {"description": "No such dead letter in the queue"}})
def requeue_one(queue: QueueName, message_id: JobId, service: Service) -> Requeued:
    done = service.requeue_dead(_known(service, queue), [message_id])
    return Requeued(requeued=_found(done, queue, [message_id]))


@router.post("/{queue}/dead/purge", response_model=Purged,
             summary="Delete dead letters (some or all) without running them",
             description="Their jobs stay `dead`; `POST /v1/jobs/{id}/retry` still runs one "
                         "from the copy of its message on the job record.",
             responses={404: {"description": "None of the named dead letters is there"}})
def purge(queue: QueueName, service: Service,
          body: Annotated[RequeueRequest, _ALL]) -> Purged:
    ids = _targets(body)
    taken = service.admin.take_dead(_known(service, queue), ids)
    return Purged(purged=_found([m.message_id for m in taken], queue, ids))


@router.delete("/{queue}/dead/{message_id}", response_model=Purged,
               summary="Delete one dead letter without running it",
               responses={404: {"description": "No such dead letter in the queue"}})
def purge_one(queue: QueueName, message_id: JobId, service: Service) -> Purged:
    taken = service.admin.take_dead(_known(service, queue), [message_id])
    return Purged(purged=_found([m.message_id for m in taken], queue, [message_id]))
