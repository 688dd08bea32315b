"""HTTP job request schema (``POST /v1/http``), shared with user schedules of kind ``http``.

``HttpJobRequest`` validates the shape; ``job_arguments`` applies the deployment's limits and
the address rules and returns what to submit (the actor's kwargs and the delay), raising
``PermanentError`` (a 422, or a 413 for a body too large) with a message naming the field.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from api.schemas.submit import SubmitOptions
from config.http import HttpJobSettings
from pools.errors import PermanentError

Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer",
               "proxy-connection", "content-length", "host"}
MAX_DELAY_MS = 7 * 86_400_000


class HttpJobRequest(SubmitOptions):
    url: str = Field(min_length=1, max_length=8_000,
                     examples=["https://api.example.com/v1/nightly-export"])
    method: Method = Field("GET", examples=["POST"])
    headers: dict[str, str] = Field(default_factory=dict, max_length=100,
                                    examples=[{"Authorization": "Bearer …"}])
    body: str | dict[str, Any] | list[Any] | None = Field(
        None, description="A string is sent as is; an object or array as JSON.",
        examples=[{"since": "yesterday"}])
    timeout_s: float = Field(30.0, gt=0, le=90, description="The whole call: connect, send, "
                             "answer and the first bytes of the body.")
    expect_status: list[int] | None = Field(
        None, max_length=50, description="Statuses that count as success (default: any 2xx). "
        "Others: 5xx and 429 are retried, the rest fail at once.", examples=[[200, 204]])
    max_retries: int = Field(3, ge=0, le=100, description="Retries after transport errors, "
                             "timeouts, 5xx and 429 (a Retry-After is honoured).")
    run_at: datetime | None = Field(None, description="Run no earlier than this time "
                                    "(ISO 8601; UTC when no offset is given). Not with "
                                    "delay_ms.", examples=["2030-01-01T03:00:00Z"])
    follow_redirects: bool = Field(False, description="Follow 3xx (each hop checked "
                                   "against the address rules).")

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _TOKEN.match(name):
                raise ValueError(f"header name {name!r} is not a valid token")
            if name.lower() in _HOP_BY_HOP:
                raise ValueError(f"header {name!r} is set by the client itself")
            if "\r" in text or "\n" in text or len(text) > 8_000:
                raise ValueError(f"header {name!r}: a value without line breaks, ≤ 8000 chars")
        return value

    @field_validator("expect_status")
    @classmethod
    def _statuses(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(not 100 <= s <= 599 for s in value):
            raise ValueError("statuses are between 100 and 599")
        return value or None

    @model_validator(mode="after")
    def _one_start(self) -> HttpJobRequest:
        if self.run_at is not None and self.delay_ms is not None:
            raise ValueError("give delay_ms or run_at, not both")
        return self


def job_arguments(body: HttpJobRequest, limits: HttpJobSettings,
                  now: float | None = None) -> tuple[dict[str, Any], int | None]:
    """The ``http_request`` kwargs and the delay (ms) for ``body`` under ``limits``."""
    url = check_url(body.url, limits.allowed_networks)
    if body.timeout_s > limits.max_timeout_s:
        raise PermanentError(f"timeout_s {body.timeout_s:g} is over the limit "
                             f"{limits.max_timeout_s:g} (http.max_timeout_s)", kind="bad_input")
    if body.max_retries > limits.max_retries:
        raise PermanentError(f"max_retries {body.max_retries} is over the limit "
                             f"{limits.max_retries} (http.max_retries)", kind="bad_input")
    size = _body_size(body.body)
    if size > limits.max_request_bytes:
        error = PermanentError(f"body is {size:,} bytes; the limit is "
                               f"{limits.max_request_bytes:,} (http.max_request_bytes)",
                               kind="too_large")
        error.http_status = 413
        raise error
    request = {"url": url, "method": body.method, "headers": body.headers, "body": body.body,
               "timeout_s": body.timeout_s, "expect_status": body.expect_status,
               "follow_redirects": body.follow_redirects}
    return {"request": request, "max_retries": body.max_retries}, _delay_ms(body, now)


def check_url(url: str, allowed: list[str]) -> str:
    """An absolute http(s) URL; a literal internal address outside ``allowed`` is refused
    here (names are resolved, checked and pinned by the worker at call time)."""
    import httpx

    from pools.net.netguard import allowed_networks, parse_ip_literal, refusal_reason

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise PermanentError(f"url is not a valid URL: {exc}", kind="bad_input") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise PermanentError("url must be an absolute http:// or https:// URL",
                             kind="bad_input")
    ip = parse_ip_literal(parsed.host)
    if ip is not None and (why := refusal_reason(ip, allowed=allowed_networks(allowed))):
        raise PermanentError(f"url {parsed.host} is an internal address ({why}); HTTP jobs "
                             f"may call it only when http.allowed_networks includes it",
                             kind="blocked")
    return str(parsed)


def _body_size(body: Any) -> int:
    if body is None:
        return 0
    if isinstance(body, str):
        return len(body.encode())
    return len(json.dumps(body, separators=(",", ":")).encode())


def _delay_ms(body: HttpJobRequest, now: float | None) -> int | None:
    if body.run_at is None:
        return body.delay_ms
    when = body.run_at if body.run_at.tzinfo else body.run_at.replace(tzinfo=UTC)
    delay = int((when.timestamp() - (now if now is not None else time.time())) * 1000)
    if delay > MAX_DELAY_MS:
        raise PermanentError("run_at is more than 7 days ahead", kind="bad_input")
    return max(delay, 0) or None
