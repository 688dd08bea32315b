"""Dependency aliases for routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from config.settings import Settings
from pools.service import JobService


def get_service(request: Request) -> JobService:
    return request.app.state.service


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def idempotency_key(
    key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                      description="Same key within 24 h → same job.")] = None,
) -> str | None:
    return key


Service = Annotated[JobService, Depends(get_service)]
AppSettings = Annotated[Settings, Depends(get_app_settings)]
IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]
