"""A small dashboard page: queues, workers and recent jobs, refreshed every few seconds."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["dashboard"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
@router.get("/dashboard", response_class=HTMLResponse, summary="The dashboard page",
            responses={200: {"content": {"text/html": {
                "example": "<!doctype html><title>repertory</title>…"}}}})
def dashboard() -> HTMLResponse:
    return HTMLResponse(files("api").joinpath("static/dashboard.html").read_text())
