"""``create_app()``: the FastAPI application.

Run with ``repertory api`` or ``uvicorn --factory api.main:create_app``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import dramatiq
from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry

from api import errors
from api.dashboard import install as install_dashboard
from api.dashboard import sampling
from api.deps import require_token
from api.fastpath import FastSubmit
from api.limits import BodyLimitMiddleware
from api.routes import (
    dashboard,
    diag,
    health,
    http,
    images,
    jobs,
    queues,
    reindex,
    schedules,
    scrape,
    search,
    solve,
    workers,
)
from config.settings import Settings, get_settings
from pools.logs import configure as configure_logging
from pools.metrics import RepertoryCollector
from pools.procs import freeze_boot_objects
from pools.service import JobService

ROUTERS = (jobs, solve, scrape, images, search, queues, workers, health, diag, dashboard,
           schedules, http, reindex)


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Start-up's objects out of the garbage collector's reach (shorter pauses in the submit
    latency's tail), then the queue-depth sampler while the app serves."""
    freeze_boot_objects()
    async with sampling(app):
        yield


def create_app(settings: Settings | None = None, broker: dramatiq.Broker | None = None) -> FastAPI:
    """With no settings (uvicorn's factory call) it also sets up logging from the settings
    (``pools.logs``: uvicorn's lines too); a program passing its own keeps its logging."""
    if settings is None:
        settings = get_settings()
        configure_logging(settings)
    if broker is None:
        import actors  # builds the broker and declares every actor

        broker = actors.broker
    app = FastAPIOffline(  # /docs and /redoc from local assets: they work air-gapped
        title="repertory",
        version="0.1.0",
        description="Jobs on Dramatiq for rostering (CP-SAT), scraping and CLIP indexing.",
        lifespan=lifespan,
    )
    service = JobService(settings, broker)
    registry = CollectorRegistry()
    registry.register(RepertoryCollector(service))
    service.metrics_registry = registry
    app.state.settings = settings
    app.state.service = service
    errors.install(app)
    app.add_middleware(FastSubmit, settings=settings, owner=app)  # inside the body limit
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    for module in ROUTERS:
        guarded = module.router.prefix.startswith("/v1")
        app.include_router(module.router,
                           dependencies=[Depends(require_token)] if guarded else [])
    install_dashboard(app)
    return app
