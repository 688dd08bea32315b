"""Schedules: dashboard.js lists ``GET /v1/schedules`` (code and user schedules, their next
and last runs) with a "run now" button each."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.dashboard.render import page

router = APIRouter()


@router.get("/dashboard/schedules", response_class=HTMLResponse)
def schedules_page(request: Request) -> HTMLResponse:
    return page(request, "schedules.html", title="schedules")
