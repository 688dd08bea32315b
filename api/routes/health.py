"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import Service
from api.routes.workers import live_workers
from api.schemas.ops import Ready

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The API process is up", responses={200: {"content": {
    "application/json": {"example": {"status": "ok"}}}}})
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=Ready, summary="Broker and job store reachable",
            description="Reports live workers per pool but stays ready when a pool is scaled "
                        "to zero: the API keeps accepting work, which waits in its queue.",
            responses={503: {"model": Ready}})
def readyz(service: Service) -> Response:
    broker_ok = store_ok = False
    detail = None
    try:
        getattr(service.broker, "client", service.admin.redis).ping()  # the broker's own pool
        broker_ok = True
        service.store.redis.ping()
        store_ok = True
        pools = Counter(w.get("pool", "?") for w in live_workers(service))
    except Exception as exc:  # any failure here means "not ready", with the reason
        detail = f"{type(exc).__name__}: {exc}"
        pools = Counter()
    for pool in ("cpu", "gpu", "index"):
        pools.setdefault(pool, 0)
    ready = broker_ok and store_ok
    body = Ready(ready=ready, broker=broker_ok, job_store=store_ok,
                 workers_by_pool=dict(pools), detail=detail)
    return JSONResponse(status_code=200 if ready else 503, content=body.model_dump())


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"example": (
                'repertory_jobs{kind="solve",status="succeeded"} 12.0\n'
                'repertory_queue_messages{queue="solve",state="ready"} 3.0\n')}}}})
def metrics(service: Service) -> Response:
    registry = service.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
