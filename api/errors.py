"""Errors → HTTP answers. Bad input is a clear 4xx, never a 500."""

from __future__ import annotations

import logging
from http import HTTPStatus

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pools.errors import PermanentError, TransientError
from pools.service import InvalidTransition, JobNotFound, ResultExpired

log = logging.getLogger(__name__)


class HttpProblem(Exception):
    """Raise from a route for a 4xx with a message (413 for too large, 415, 422 …)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None,
                 **extra: object) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra
        self.headers = headers


def _problem(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message, **extra})


def install(app: FastAPI) -> None:
    @app.exception_handler(JobNotFound)
    async def _not_found(request: Request, exc: JobNotFound) -> JSONResponse:
        return _problem(404, f"no job with id {exc.args[0]!r}")

    @app.exception_handler(ResultExpired)
    async def _gone(request: Request, exc: ResultExpired) -> JSONResponse:
        return _problem(410, str(exc))

    @app.exception_handler(InvalidTransition)
    async def _conflict(request: Request, exc: InvalidTransition) -> JSONResponse:
        return _problem(409, str(exc))

    @app.exception_handler(PermanentError)
    async def _bad(request: Request, exc: PermanentError) -> JSONResponse:
        extra = {"limit": exc.limit} if hasattr(exc, "limit") else {}
        return _problem(exc.http_status, exc.message, type=exc.kind, **extra)

    @app.exception_handler(TransientError)
    async def _busy(request: Request, exc: TransientError) -> JSONResponse:
        return _problem(getattr(exc, "http_status", 503), exc.message, type=exc.kind)

    @app.exception_handler(HttpProblem)
    async def _problem_handler(request: Request, exc: HttpProblem) -> JSONResponse:
        response = _problem(exc.status, exc.message, **exc.extra)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return _problem(422, f"invalid request: {summary}", details=details)

    @app.exception_handler(redis.RedisError)
    async def _unavailable(request: Request, exc: redis.RedisError) -> JSONResponse:
        log.warning("redis unavailable: %s", exc)
        return _problem(503, "the broker is unavailable; nothing was accepted, try again")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status, message = _http_message(request, exc)
        response = _problem(status, message, **getattr(exc, "extra", {}))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette logs the exception with its stack after this answer; the body has none.
        return _problem(500, "internal error: the server log has the details",
                        type="internal_error")


def _http_message(request: Request, exc: StarletteHTTPException) -> tuple[int, str]:
    """The status and message for Starlette's and FastAPI's own HTTP errors (unknown route,
    wrong method, a body that could not be parsed), in words a client can act on."""
    where = f"{request.method} {request.url.path}"
    cause = exc.__cause__
    if isinstance(cause, RecursionError):
        return 422, "body is not acceptable JSON: it is nested too deeply"
    if isinstance(cause, UnicodeDecodeError):
        return 422, f"body is not valid UTF-8 (byte {cause.start})"
    if exc.detail != _phrase(exc.status_code):
        return exc.status_code, str(exc.detail)
    if exc.status_code == 404:
        return 404, f"no route {where}"
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow")
        return 405, f"{where} is not allowed" + (f"; allowed: {allowed}" if allowed else "")
    return exc.status_code, f"{exc.status_code} {exc.detail}: {where}"


def _phrase(status: int) -> str | None:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return None
