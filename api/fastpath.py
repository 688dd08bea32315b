"""Single-job JSON submissions without the framework's per-request machinery.

A profile of ``POST /v1/diag`` under 32 clients put two thirds of the API's CPU in FastAPI's
routing, dependency solving and response handling, for a route whose own work is one Redis
script. ``FastSubmit`` is a pure ASGI middleware that answers the *plain success case* of the
routes registered with ``fast_submit`` itself: a JSON ``POST`` of a declared length within
``api.max_body_bytes``, authorised, whose body the route's own pydantic model accepts. It
calls the same ``submit`` function the FastAPI route calls and writes the same 202 body.

Everything else falls through, untouched, to the FastAPI route: another method or content type,
a chunked body, a missing or wrong token, an over-long ``Idempotency-Key``, a body the model
refuses (the body read is replayed). So every error answer, and the OpenAPI schema, still come
from one place, and the fast path cannot answer differently from the route (a test sends the
same requests through both and compares). An exception raised by ``submit`` is answered by
the application's own exception handlers, in the one error shape.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import token_ok
from config.settings import Settings
from pools.service import JobService

#: ``submit(body, service, idempotency_key)`` → the 202 body, as the FastAPI route returns it.
Submit = Callable[[Any, JobService, str | None], Awaitable[dict[str, Any]]]
MAX_IDEMPOTENCY_KEY = 200  # api.deps.idempotency_key's max_length


@dataclass(frozen=True)
class FastRoute:
    model: type[BaseModel]
    submit: Submit


#: path → route; filled by ``fast_submit`` where the routes are defined.
FAST_ROUTES: dict[str, FastRoute] = {}


def fast_submit(path: str, model: type[BaseModel]) -> Callable[[Submit], Submit]:
    """Register ``submit`` as the fast path of ``POST path`` (a decorator)."""

    def register(submit: Submit) -> Submit:
        FAST_ROUTES[path] = FastRoute(model, submit)
        return submit

    return register


class FastSubmit:
    """``owner``: the FastAPI application (its service and exception handlers)."""

    def __init__(self, app: ASGIApp, settings: Settings, owner: Any) -> None:
        self.app, self.settings, self.owner = app, settings, owner
        self.max_bytes = settings.api.max_body_bytes
        self.enabled = settings.api.fast_submit
        self.answered = Counter(
            "repertory_api_fast_submits", "Submissions answered by the fast path (api.fastpath)",
            ["path"], registry=owner.state.service.metrics_registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        taken = self._route(scope)
        if taken is None:
            await self.app(scope, receive, send)
            return
        route, key = taken
        body = await _read(receive)
        try:
            parsed = route.model.model_validate_json(body)
        except ValidationError:
            await self.app(scope, _replay(body, receive), send)  # the route answers the 422
            return
        try:
            answer = await route.submit(parsed, self.owner.state.service, key)
        except Exception as exc:  # answered as the route's error would be
            await self._handled(exc, scope, receive, send)
            return
        await _json(send, 202, answer)
        self.answered.labels(scope["path"]).inc()

    def _route(self, scope: Scope) -> tuple[FastRoute, str | None] | None:
        """The route and Idempotency-Key of a request the fast path takes; None otherwise."""
        if not self.enabled or scope["type"] != "http" or scope["method"] != "POST":
            return None
        route = FAST_ROUTES.get(scope["path"])
        if route is None:
            return None
        headers = _headers(scope)
        length, key = headers.get(b"content-length", ""), headers.get(b"idempotency-key")
        if (not headers.get(b"content-type", "").startswith("application/json")
                or not length.isdigit() or int(length) > self.max_bytes
                or (key is not None and len(key) > MAX_IDEMPOTENCY_KEY)
                or not token_ok(self.settings, headers.get(b"authorization"))):
            return None
        return route, key

    async def _handled(self, exc: Exception, scope: Scope, receive: Receive,
                       send: Send) -> None:
        handlers = self.owner.exception_handlers
        handler = next((handlers[t] for t in type(exc).__mro__ if t in handlers), None)
        if handler is None or type(exc) is Exception:
            raise exc
        response = await handler(Request(scope, receive), exc)
        await response(scope, receive, send)


#: The request headers the fast path reads.
_WANTED = frozenset((b"content-type", b"content-length", b"idempotency-key", b"authorization"))


def _headers(scope: Scope) -> dict[bytes, str]:
    """The wanted headers, read in one pass (the first of a repeated one, as Starlette does)."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _WANTED and name not in found:
            found[name] = value.decode("latin-1")
    return found


async def _read(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _json(send: Send, status: int, content: dict[str, Any]) -> None:
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None,
                      separators=(",", ":")).encode()  # as JSONResponse renders it
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
