"""The jobs list: filter by kind, status and creation time, search by id, cursor paging."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.dashboard.render import authorized, page
from api.deps import Service
from config import queues as q
from pools.jobs import STATUSES

router = APIRouter()

RANGES = {"15m": 900, "1h": 3600, "6h": 6 * 3600, "24h": 86_400, "7d": 7 * 86_400}
PAGE_SIZES = (25, 50, 100, 200)
SEARCH_LIMIT = 50
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass
class Filters:
    """The list's query, read leniently: what cannot be used is reported, not a 422."""

    kind: str = ""
    status: str = ""
    last: str = ""
    start: str = ""
    end: str = ""
    q: str = ""
    cursor: str = ""
    limit: int = 50
    problems: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, params: Any) -> Filters:
        f = cls(**{k: (params.get(k) or "").strip()
                   for k in ("kind", "status", "last", "start", "end", "q", "cursor")})
        if f.status and f.status not in STATUSES:
            f.problems.append(f"unknown status {f.status!r}; one of {', '.join(STATUSES)}")
            f.status = ""
        if f.kind and not _ID.match(f.kind):
            f.problems.append(f"kind {f.kind[:40]!r} is not a job kind")
            f.kind = ""
        if f.last and f.last not in RANGES:
            f.problems.append(f"unknown range {f.last!r}")
            f.last = ""
        if f.cursor and not f.cursor.isdigit():
            f.problems.append("the page cursor is damaged; showing the first page")
            f.cursor = ""
        size = params.get("limit") or "50"
        f.limit = min(int(size), 200) if size.isdigit() and int(size) > 0 else 50
        return f

    def window(self) -> tuple[float | None, float | None]:
        """Creation-time bounds: the quick range, else the start / end fields (UTC)."""
        if self.last:
            return time.time() - RANGES[self.last], None
        return self._instant("start"), self._instant("end")

    def _instant(self, name: str) -> float | None:
        text = getattr(self, name)
        if not text:
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.problems.append(f"{name} {text[:40]!r} is not a date and time")
            setattr(self, name, "")
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()

    def query(self, **change: str) -> str:
        """This query string with some parameters changed (for paging links)."""
        from urllib.parse import urlencode

        values = {"kind": self.kind, "status": self.status, "last": self.last,
                  "start": self.start, "end": self.end, "limit": str(self.limit), **change}
        return urlencode({k: v for k, v in values.items()
                          if v and not (k == "limit" and v == "50")})


def search(service: Service, text: str) -> tuple[str | None, list[dict[str, Any]], str | None]:
    """``(exact id, records whose id starts with text, problem)``."""
    if not _ID.match(text):
        return None, [], "a job id has letters, digits, '-' and '_' only"
    if service.store.exists(text):
        return text, [], None
    found = []
    for member, _ in service.store.redis.zscan_iter(q.job_index_key(), match=f"{text}*",
                                                    count=1000):
        found.append(member.decode())
        if len(found) >= SEARCH_LIMIT:
            break
    records = sorted(service.store.get_many(found), key=lambda r: -r["created_at"])
    return None, records, None if records else f"no job id starts with {text!r}"


@router.get("/dashboard/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, service: Service) -> Response:
    f = Filters.read(request.query_params)
    items: list[dict[str, Any]] = []
    next_cursor = None
    if f.q and authorized(request):
        exact, items, problem = search(service, f.q)
        if exact:
            return RedirectResponse(f"/dashboard/jobs/{exact}", status_code=303)
        if problem:
            f.problems.append(problem)
    else:
        since, until = f.window()
        found = service.store.list(kind=f.kind or None, status=f.status or None, limit=f.limit,
                                   cursor=f.cursor or None, since=since, until=until)
        items, next_cursor = found.items, found.next_cursor
    return page(request, "jobs.html", title="jobs", f=f, items=items, next_cursor=next_cursor,
                kinds=service.store.kinds(), statuses=STATUSES, ranges=RANGES,
                page_sizes=PAGE_SIZES)
