"""The operator's console: server-rendered pages (Jinja2) and a little JavaScript, every
asset served by the API itself (``/static/dashboard``), no build step.

Pages: overview (``/dashboard``), jobs and one job, workers, dead letters, schedules. Actions
(cancel, retry, requeue, purge) call the /v1 JSON routes from dashboard.js and show their
outcome. The history behind the charts is ``pools.history``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from api.dashboard import access, dead, job_page, jobs, overview, schedules, workers
from api.dashboard.sampler import sampling

STATIC = Path(__file__).resolve().parents[1] / "static"

router = APIRouter(tags=["dashboard"], include_in_schema=False)
for _module in (overview, jobs, job_page, workers, dead, schedules, access):
    router.include_router(_module.router)


def install(app: FastAPI) -> None:
    """Serve the dashboard's own assets."""
    app.mount("/static/dashboard", StaticFiles(directory=STATIC), name="dashboard-static")


__all__ = ["install", "router", "sampling"]
