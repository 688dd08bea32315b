"""Templates (Jinja2, shipped in ``api/dashboard/templates``), their filters, and access.

With ``REPERTORY_API__TOKEN`` set, pages need the token like /v1 does: as a bearer header, or
the ``repertory_token`` cookie that the login form sets (HttpOnly, SameSite=Strict).
"""

from __future__ import annotations

import hmac
import json
import math
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

COOKIE = "repertory_token"


def when(ts: float | None) -> str:
    """A timestamp as UTC text (the browser shows it in local time, see dashboard.js)."""
    if not ts:
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def iso(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts else ""


def span(seconds: float | None) -> str:
    """A duration in the largest sensible unit: 850 ms, 12.3 s, 4 m 05 s, 2 h 03 m."""
    if seconds is None or math.isnan(seconds):
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} m {int(seconds % 60):02d} s"
    if seconds < 86_400:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} m"
    return f"{int(seconds // 86_400)} d {int(seconds % 86_400 // 3600)} h"


def ago(ts: float | None) -> str:
    return "—" if not ts else span(max(0.0, time.time() - ts)) + " ago"


def runtime(record: dict[str, Any]) -> float | None:
    started = record.get("started_at")
    if not started:
        return None
    return (record.get("finished_at") or time.time()) - started


def pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def size(n: float | None) -> str:
    if n is None:
        return "—"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def pretty(value: Any, depth: int = 0) -> str:
    """JSON, indented, with lists of plain values kept on one line (a roster reads as rows)."""
    pad = "  " * depth
    if isinstance(value, dict) and value:
        items = [f"{pad}  {json.dumps(str(k), ensure_ascii=False)}: "
                 f"{pretty(v, depth + 1).lstrip(' ')}" for k, v in value.items()]
        return f"{pad}{{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return f"{pad}[\n" + ",\n".join(pretty(v, depth + 1) for v in value) + f"\n{pad}]"
    return pad + json.dumps(value, ensure_ascii=False, default=str)


def num(value: Any) -> Any:
    """A number as people read it: 607 not 607.0, 2.94 not 2.936292087000311."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, 3 if abs(value) < 100 else 1)
    return value


@lru_cache(maxsize=1)
def env() -> Environment:
    environment = Environment(loader=PackageLoader("api", "dashboard/templates"),
                              autoescape=select_autoescape(["html"]),
                              trim_blocks=True, lstrip_blocks=True)
    environment.filters.update(when=when, iso=iso, span=span, ago=ago, pct=pct, size=size,
                               pretty=pretty, runtime=runtime, num=num)
    return environment


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a dashboard page; the login form instead when the API has a token the request
    does not carry."""
    if not authorized(request):
        template, status_code = "login.html", 200
        context = {"next": request.url.path, "title": "sign in"}
    html = env().get_template(template).render(request=request, path=request.url.path,
                                               **context)
    return HTMLResponse(html, status_code=status_code)


def authorized(request: Request) -> bool:
    token = request.app.state.settings.api.token
    if token is None:
        return True
    return matches(given_token(request), token.get_secret_value())


def given_token(request: Request) -> str:
    scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and given:
        return given
    return request.cookies.get(COOKIE, "")


def matches(given: str, token: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())
