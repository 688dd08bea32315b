"""Dead letters per queue: each message with its error and traceback; requeue or purge one,
or all. The buttons call the JSON routes of ``api.routes.queues``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.dashboard.render import page
from api.deps import Service
from api.routes.queues import QueueName, dead_letters_of

router = APIRouter()


def _render(request: Request, service: Service, queue: str | None, limit: int) -> HTMLResponse:
    stats = service.admin.all_stats()
    if queue is None:
        queue = next((s["queue"] for s in stats if s["dead"]), None)
    elif queue not in service.admin.queues:
        return page(request, "error.html", status_code=404, title="unknown queue",
                    message=f"unknown queue {queue!r}; known: {', '.join(service.admin.queues)}")
    letters = dead_letters_of(service, queue, limit) if queue else []
    total = next((s["dead"] for s in stats if s["queue"] == queue), 0)
    return page(request, "dead.html", title="dead letters", stats=stats, queue=queue,
                letters=letters, total=total, limit=limit)


@router.get("/dashboard/dead", response_class=HTMLResponse)
def dead_overview(request: Request, service: Service,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> HTMLResponse:
    return _render(request, service, None, limit)


@router.get("/dashboard/dead/{queue}", response_class=HTMLResponse)
def dead_queue(request: Request, queue: QueueName, service: Service,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> HTMLResponse:
    return _render(request, service, queue, limit)
