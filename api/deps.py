"""Dependency aliases for routes.

Every dependency here is ``async def`` and does no I/O: FastAPI runs a plain ``def``
dependency in the threadpool, a hop per request that an async route would pay for nothing."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Path, Request

from api.errors import HttpProblem
from config.settings import Settings
from pools.service import JobService


async def get_service(request: Request) -> JobService:
    return request.app.state.service


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def require_token(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> None:
    """With ``REPERTORY_API__TOKEN`` set, /v1 routes need ``Authorization: Bearer <token>``,
    or the dashboard's sign-in cookie (HttpOnly, SameSite=Strict: no other site can use it)."""
    cookie = request.cookies.get("repertory_token")
    if not token_ok(request.app.state.settings,
                    authorization or (f"Bearer {cookie}" if cookie else None)):
        raise HttpProblem(401, "missing or wrong bearer token",
                          headers={"WWW-Authenticate": "Bearer"})


def token_ok(settings: Settings, authorization: str | None) -> bool:
    """No token configured, or ``authorization`` is ``Bearer <that token>``."""
    token = settings.api.token
    if token is None:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.encode(), token.get_secret_value().encode())


async def idempotency_key(
    key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                      description="Same key within 24 h → same job.")] = None,
) -> str | None:
    return key


Service = Annotated[JobService, Depends(get_service)]
AppSettings = Annotated[Settings, Depends(get_app_settings)]
IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]

JobId = Annotated[str, Path(max_length=64, examples=["3f0c6c1e4b8a4f7f9d0e2a1b5c6d7e8f"],
                            description="A job id, as returned by a submit route.")]
ImageId = Annotated[str, Path(max_length=64, examples=["5b0f8f6e-0c8e-5c52-9d53-0f6a1c2d3e4f"],
                              description="An image id, as returned by POST /v1/images.")]
