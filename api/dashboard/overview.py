"""The overview: queue depths and their last hour, jobs per minute by outcome, live pools."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.dashboard import charts
from api.dashboard.render import page
from api.deps import Service
from api.routes.workers import live_workers
from pools import history
from pools.definitions import pools

router = APIRouter()

OUTCOMES = ("succeeded", "failed", "dead", "cancelled")
WINDOWS = {60: "1 h", 360: "6 h", 1440: "24 h"}


def queue_rows(service: Service, window: history.Window) -> list[dict[str, Any]]:
    """Each queue's depths now, what finished per minute, and its failures in the window."""
    by_queue = window.finished_by("queue")
    failed = {q: 0 for q in by_queue}
    for (queue, _, outcome), series in window.done.items():
        if outcome in ("failed", "dead"):
            failed[queue] += sum(series)
    rows = []
    for stats in service.admin.all_stats():
        series = by_queue.get(stats["queue"], [0] * len(window.minutes))
        rows.append({**stats, "finished": sum(series), "failed": failed.get(stats["queue"], 0),
                     "spark": charts.sparkline(series, label=f"{stats['queue']}: finished "
                                                              "per minute")})
    return rows


def pool_rows(service: Service) -> list[dict[str, Any]]:
    """Every defined pool (and any other a worker names), with its live workers now."""
    workers = live_workers(service)
    defined = pools(service.settings)
    names = list(defined) + sorted({str(w.get("pool")) for w in workers} - set(defined))
    rows = []
    for name in names:
        mine = [w for w in workers if w.get("pool") == name]
        pool = defined.get(name)
        rows.append({"name": name, "live": len(mine),
                     "queues": pool.queues if pool else tuple(mine[0].get("queues", ())),
                     "description": pool.description if pool else "",
                     "hosts": sorted({w["host"] for w in mine}),
                     "processed": sum(w.get("processed", 0) for w in mine)})
    return rows


def outcome_chart(window: history.Window) -> dict[str, Any]:
    by_outcome = window.finished_by("outcome")
    series = {o: by_outcome.get(o, [0] * len(window.minutes)) for o in OUTCOMES}
    series.update({o: v for o, v in by_outcome.items() if o not in series})
    totals = {o: sum(v) for o, v in series.items()}
    return {"svg": charts.stacked_bars(series, label="jobs finished per minute, by outcome"),
            "legend": charts.legend(list(series)), "totals": totals,
            "peak": max((sum(v[i] for v in series.values()) for i in range(len(window.minutes))),
                        default=0)}


def depth_chart(window: history.Window) -> dict[str, Any] | None:
    """Messages waiting (ready + delayed) per queue, for queues that had any."""
    waiting: dict[str, list[int | None]] = {}
    for (queue, state), series in window.depth.items():
        if state not in ("ready", "delayed"):
            continue
        total = waiting.setdefault(queue, [None] * len(window.minutes))
        for i, v in enumerate(series):
            if v is not None:
                total[i] = (total[i] or 0) + v
    busy = {q: v for q, v in sorted(waiting.items()) if any(v)}
    sampled = sum(1 for i in range(len(window.minutes))
                  if any(v[i] is not None for v in waiting.values()))
    if not busy:
        return {"svg": None, "legend": None, "samples": sampled}
    return {"svg": charts.lines(busy, label="messages waiting per queue"),
            "legend": charts.legend(list(busy)), "samples": sampled}


@router.get("/", response_class=HTMLResponse)
@router.get("/dashboard", response_class=HTMLResponse)
def overview(request: Request, service: Service,
             minutes: Annotated[int, Query(ge=10, le=1440)] = 60) -> HTMLResponse:
    window = history.read_window(service.store.redis, minutes)
    return page(request, "overview.html", title="overview", minutes=minutes, windows=WINDOWS,
                queues=queue_rows(service, window), pools=pool_rows(service),
                outcomes=outcome_chart(window), depth=depth_chart(window),
                kinds=window.total("kind"))
