"""One job: its timeline (every move and attempt, with the worker of each), progress,
arguments, result, error with traceback, children, webhook deliveries, cancel and retry."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.dashboard.render import page, pretty
from api.deps import JobId, Service
from pools import history
from pools.jobs import ACTIVE, DEAD, FAILED, RUNNING
from pools.service import ResultExpired

router = APIRouter()

RESULT_INLINE_CHARS = 16_000
CHILDREN_SHOWN = 100


def abbreviate(value: Any, depth: int = 3, items: int = 12, text: int = 200) -> Any:
    """A readable summary of a (possibly huge) JSON value: nested to ``depth``, the first
    ``items`` of each list or object, long strings cut; what was left out is said."""
    if isinstance(value, dict):
        if depth == 0:
            return f"{{… {len(value)} keys}}"
        out = {str(k): abbreviate(v, depth - 1, items, text)
               for k, v in list(value.items())[:items]}
        if len(value) > items:
            out["…"] = f"{len(value) - items} more keys"
        return out
    if isinstance(value, list):
        if depth == 0:
            return f"[… {len(value)} items]"
        shown = [abbreviate(v, depth - 1, items, text) for v in value[:items]]
        return shown + ([f"… {len(value) - items} more items"] if len(value) > items else [])
    if isinstance(value, str) and len(value) > text:
        return f"{value[:text]}… ({len(value)} characters)"
    return value


def split_worker(worker: str | None) -> tuple[str, str]:
    host, _, pid = (worker or "").rpartition(":")
    return (host, pid) if host else (worker or "", "")


def timeline(record: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows oldest first: "created", then every move with its time since creation."""
    created = record["created_at"]
    rows = [{"at": created, "offset": 0.0, "event": "created", "to": "queued", "from": "",
             "attempt": 0}]
    for e in events:
        host, pid = split_worker(e.get("worker"))
        rows.append({**e, "offset": e["at"] - created, "host": host, "pid": pid})
    return rows


def attempts(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per run: who ran it, when, how long, how it ended."""
    runs: list[dict[str, Any]] = []
    for e in events:
        if e["event"] == "start":
            host, pid = split_worker(e.get("worker"))
            runs.append({"attempt": e.get("attempt"), "host": host, "pid": pid,
                         "started": e["at"], "ended": None, "outcome": "running"})
        elif runs and runs[-1]["ended"] is None and e.get("from") == RUNNING:
            runs[-1].update(ended=e["at"], outcome=e["to"], error=e.get("error_message"),
                            traceback=e.get("traceback"))
    for run in runs:
        run["took"] = (run["ended"] - run["started"]) if run["ended"] else None
    return runs


def last_traceback(events: list[dict[str, Any]]) -> str | None:
    return next((e["traceback"] for e in reversed(events) if e.get("traceback")), None)


def result_view(service: Service, record: dict[str, Any]) -> dict[str, Any] | None:
    """The result inline when small; else its summary and a link to the whole."""
    job_id = record["id"]
    link = f"/v1/jobs/{job_id}/result"
    if record.get("children_total"):
        return {"link": link, "large": True, "text": None, "chars": None}
    if not record.get("has_result"):
        return None
    try:
        value = service.result(job_id)
    except ResultExpired as exc:
        return {"link": None, "large": False, "text": None, "expired": str(exc)}
    text = pretty(value)
    large = len(text) > RESULT_INLINE_CHARS
    shown = pretty(abbreviate(value, depth=2)) if large else text
    return {"link": link, "large": large, "text": shown, "chars": len(text)}


def arguments(record: dict[str, Any]) -> Any:
    message = record.get("message") or {}
    if not message:
        return None
    args, kwargs = message.get("args") or [], message.get("kwargs") or {}
    return abbreviate({"args": args, "kwargs": kwargs} if kwargs else {"args": args})


def children(service: Service, record: dict[str, Any]) -> dict[str, Any] | None:
    if not record.get("children_total"):
        return None
    ids = service.store.children(record["id"])
    shown = sorted(service.store.get_many(ids[:CHILDREN_SHOWN]),
                   key=lambda r: r.get("created_at", 0))
    counts = {s: record.get(f"children_{s}", 0)
              for s in ("succeeded", "failed", "dead", "cancelled")}
    return {"total": record["children_total"], "done": record.get("children_done", 0),
            "counts": counts, "items": shown, "more": max(0, len(ids) - len(shown)),
            "errors": {k.removeprefix("errors_"): v for k, v in record.items()
                       if k.startswith("errors_")}}


def actions(record: dict[str, Any], kids: dict[str, Any] | None) -> dict[str, bool]:
    broken = kids is not None and (kids["counts"]["failed"] + kids["counts"]["dead"]) > 0
    return {"cancel": record["status"] in ACTIVE,
            "retry": record["status"] in (FAILED, DEAD) or broken}


@router.get("/dashboard/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: JobId, service: Service) -> HTMLResponse:
    record = service.store.get(job_id)
    if record is None:
        return page(request, "error.html", status_code=404, title="unknown job",
                    message=f"no job with id {job_id!r} (records are kept "
                            f"{service.settings.jobs.record_ttl_s // 86_400} days after they "
                            "finish)")
    events = service.store.events(job_id)
    kids = children(service, record)
    return page(request, "job.html", title=f"job {job_id[:8]}", job=record,
                timeline=timeline(record, events), attempts=attempts(events),
                traceback=last_traceback(events), progress=record.get("progress"),
                args=arguments(record), result=result_view(service, record), children=kids,
                deliveries=history.deliveries(service.store.redis, job_id),
                actions=actions(record, kids), active=record["status"] in ACTIVE)
