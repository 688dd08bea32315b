"""Queues: depths and dead letters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from api.deps import Service
from api.errors import HttpProblem
from api.schemas.ops import DeadLetter, QueueStats, Requeued, RequeueRequest

router = APIRouter(prefix="/v1/queues", tags=["queues"])

QueueName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,63}$", examples=["solve"])]


def _known(service: Service, queue: str) -> str:
    if queue not in service.admin.queues:
        raise HttpProblem(404, f"unknown queue {queue!r}; known: {list(service.admin.queues)}")
    return queue


@router.get("", response_model=list[QueueStats], summary="Ready, delayed, in-flight and dead "
            "messages per queue")
def list_queues(service: Service) -> list[QueueStats]:
    return [QueueStats(**s) for s in service.admin.all_stats()]


@router.get("/{queue}/dead", response_model=list[DeadLetter], summary="Dead letters, newest first")
def dead_letters(queue: QueueName, service: Service,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[DeadLetter]:
    return [DeadLetter(**d) for d in service.admin.dead(_known(service, queue), limit)]


@router.post("/{queue}/dead/requeue", response_model=Requeued,
             summary="Requeue dead letters (some or all)")
def requeue(queue: QueueName, service: Service,
            body: Annotated[RequeueRequest, Body(examples=[{"all": True}])]) -> Requeued:
    if not body.all and not body.message_ids:
        raise HttpProblem(422, "name message_ids to requeue, or send all: true")
    ids = None if body.all else body.message_ids
    return Requeued(requeued=service.requeue_dead(_known(service, queue), ids))
