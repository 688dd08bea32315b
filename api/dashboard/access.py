"""Signing in to the dashboard when the API has a token: a form that sets the cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.dashboard.render import COOKIE, env, matches

router = APIRouter()


def _safe_next(target: str) -> str:
    """Only a path of this dashboard (never another site)."""
    return target if target.startswith("/dashboard") and "//" not in target else "/dashboard"


@router.post("/dashboard/login", response_class=HTMLResponse)
def login(request: Request, token: Annotated[str, Form(max_length=500)],
          next: Annotated[str, Form(max_length=500)] = "/dashboard") -> Response:
    expected = request.app.state.settings.api.token
    if expected is not None and not matches(token, expected.get_secret_value()):
        html = env().get_template("login.html").render(
            request=request, path=request.url.path, next=_safe_next(next), title="sign in",
            problem="that is not the API token")
        return HTMLResponse(html, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    if expected is not None:
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
    return response


@router.post("/dashboard/logout")
def logout() -> Response:
    response = RedirectResponse("/dashboard", status_code=303)
    response.delete_cookie(COOKIE)
    return response
