"""Request body limits, enforced before a body is read (a pure ASGI middleware).

Every route has a limit: ``POST /v1/solve`` ``solve.max_text_bytes``, ``POST /v1/images``
``clip.images.max_request_bytes``, ``POST /v1/search/image`` ``clip.images.max_bytes`` plus a
little multipart overhead, everything else ``api.max_body_bytes``. A Content-Length over the
limit is answered 413 at once, before the application runs or reads a byte. A body of unknown
length (chunked) is counted as it streams in, and reading stops with a 413 once it passes the
limit. Either way the 413 names the limit and the environment variable that changes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.settings import ENV_PREFIX, Settings

#: Room for the multipart boundaries and part headers around one uploaded query image.
MULTIPART_OVERHEAD = 64 * 1024


@dataclass(frozen=True)
class BodyLimit:
    max_bytes: int
    setting: str  # dotted path in the settings tree, e.g. "api.max_body_bytes"

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.setting.replace(".", "__").upper()


def route_limits(settings: Settings) -> dict[str, BodyLimit]:
    """The routes with a limit of their own, by path."""
    images = settings.clip.images
    return {
        "/v1/solve": BodyLimit(settings.solve.max_text_bytes, "solve.max_text_bytes"),
        "/v1/images": BodyLimit(images.max_request_bytes, "clip.images.max_request_bytes"),
        "/v1/search/image": BodyLimit(images.max_bytes + MULTIPART_OVERHEAD,
                                      "clip.images.max_bytes"),
    }


class BodyTooLarge(HTTPException):
    """413, naming the limit. A FastAPI ``HTTPException`` so that body parsing re-raises it
    as it is (FastAPI turns any other error there into a 400)."""

    def __init__(self, limit: BodyLimit, scope: Scope, length: int | None = None) -> None:
        where = f"{scope.get('method', '')} {route_path(scope)}".strip()
        size = f"is {length:,} bytes" if length is not None else "is larger"
        message = (f"request body {size}; the limit for {where} is {limit.max_bytes:,} bytes "
                   f"({limit.setting}, set {limit.env} to change it)")
        super().__init__(status_code=413, detail=message)
        self.extra = {"limit": limit.setting, "max_bytes": limit.max_bytes,
                      "setting": limit.env}

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.detail, **self.extra}, status_code=413)


def route_path(scope: Scope) -> str:
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


def content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # the HTTP server refuses such a request itself


class BodyLimitMiddleware:
    """Refuses bodies over their route's limit, declared or counted."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limits = route_limits(settings)
        self.default = BodyLimit(settings.api.max_body_bytes, "api.max_body_bytes")

    def limit_for(self, scope: Scope) -> BodyLimit:
        return self.limits.get(route_path(scope).rstrip("/"), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        length = content_length(scope)
        if length is not None and length > limit.max_bytes:
            await BodyTooLarge(limit, scope, length).response()(scope, receive, send)
            return
        await _Counted(self.app, limit)(scope, receive, send)


class _Counted:
    """One request whose body bytes are counted as the application receives them."""

    def __init__(self, app: ASGIApp, limit: BodyLimit) -> None:
        self.app, self.limit = app, limit
        self.seen = 0
        self.started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.seen += len(message.get("body", b""))
                if self.seen > self.limit.max_bytes:
                    raise BodyTooLarge(self.limit, scope)
            return message

        async def tracked_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge as exc:  # the application let it through: answer it here
            if self.started:
                raise
            await exc.response()(scope, receive, send)
