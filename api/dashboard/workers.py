"""Workers: every live worker process, its device and memory, and the jobs it runs now."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.dashboard.render import page
from api.deps import Service
from api.routes.workers import live_workers

router = APIRouter()

RUNNING_SCANNED = 1000
#: Heartbeat facts shown in their own columns; any other fact a worker publishes is listed.
_SHOWN = {"id", "pool", "host", "pid", "queues", "device", "device_name", "started_at",
          "last_seen", "processed", "model", "memory_total_bytes", "memory_used_bytes",
          "memory_allocated_bytes"}


def running_by_worker(service: Service) -> dict[str, list[dict[str, Any]]]:
    """Running jobs keyed by the ``host:pid`` of the worker that started them."""
    found: dict[str, list[dict[str, Any]]] = {}
    for record in service.store.list(status="running", limit=RUNNING_SCANNED).items:
        if record.get("worker"):
            found.setdefault(record["worker"], []).append(record)
    return found


def worker_rows(service: Service) -> list[dict[str, Any]]:
    now = time.time()
    running = running_by_worker(service)
    rows = []
    for w in sorted(live_workers(service), key=lambda w: (w.get("pool", ""), w["host"],
                                                          w["pid"])):
        rows.append({**w, "heartbeat_age": now - w.get("last_seen", now),
                     "uptime": now - w.get("started_at", now),
                     "jobs": running.get(f"{w['host']}:{w['pid']}", []),
                     "facts": {k: v for k, v in w.items() if k not in _SHOWN}})
    return rows


@router.get("/dashboard/workers", response_class=HTMLResponse)
def workers_page(request: Request, service: Service) -> HTMLResponse:
    return page(request, "workers.html", title="workers", workers=worker_rows(service),
                interval=service.settings.pools.heartbeat_interval_s)
