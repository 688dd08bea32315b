"""Live workers, from their heartbeats."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter

from api.deps import Service
from api.schemas.ops import Worker
from config.queues import WORKERS_INDEX, worker_key

router = APIRouter(prefix="/v1/workers", tags=["workers"])

_CORE = set(Worker.model_fields) - {"extra"}


def live_workers(service: Service) -> list[dict[str, Any]]:
    client = service.store.redis
    ids = [i.decode() for i in client.zrange(WORKERS_INDEX, 0, -1)]
    if not ids:
        return []
    bodies = client.mget([worker_key(i) for i in ids])
    gone = [i for i, b in zip(ids, bodies, strict=True) if b is None]
    if gone:
        client.zrem(WORKERS_INDEX, *gone)
    return [json.loads(b) for b in bodies if b is not None]


@router.get("", response_model=list[Worker], summary="Worker processes with a live heartbeat")
def list_workers(service: Service) -> list[Worker]:
    out = []
    for w in live_workers(service):
        extra = {k: v for k, v in w.items() if k not in _CORE}
        out.append(Worker(**{k: v for k, v in w.items() if k in _CORE}, extra=extra))
    return out
