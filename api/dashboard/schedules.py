"""Schedules: when the API serves ``GET /v1/schedules`` (code and user schedules, their next
and last runs), dashboard.js lists them with a "run now" button each; otherwise the periodic
actors declared in code (periodiq crons) with their next run."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.dashboard.render import page
from api.deps import Service

router = APIRouter()


def code_schedules(broker: Any) -> list[dict[str, Any]]:
    rows = []
    for name, actor in sorted(broker.actors.items()):
        spec = actor.options.get("periodic")
        if spec is None:
            continue
        import pendulum

        now = pendulum.now()
        rows.append({"name": name, "queue": actor.queue_name, "cron": str(spec),
                     "next": spec.next_valid_date(now).timestamp(),
                     "doc": (actor.fn.__doc__ or "").strip().splitlines()[0:1]})
    return rows


def serves(request: Request, path: str) -> bool:
    """Whether the API has a GET route at ``path`` (from its OpenAPI schema, built once)."""
    return "get" in request.app.openapi().get("paths", {}).get(path, {})


@router.get("/dashboard/schedules", response_class=HTMLResponse)
def schedules_page(request: Request, service: Service) -> HTMLResponse:
    served = serves(request, "/v1/schedules")
    return page(request, "schedules.html", title="schedules", served=served,
                schedules=[] if served else code_schedules(service.broker))
