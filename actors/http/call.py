"""One attempt of an HTTP job: send the request, read the first bytes of the answer, classify.

Pure of Dramatiq: ``attempt`` takes an ``httpx.AsyncClient`` (built on the guarded transport by
the runtime) and returns an ``Outcome`` or raises a typed error:

* the status is expected (``expect_status``, default any 2xx) → the outcome;
* 5xx, 429, a timeout or a transport error → ``RetryableCall`` (transient; carries the
  ``Retry-After`` delay when the server sent one);
* any other status, a refused address, a bad URL → ``PermanentError`` (not retried).
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from dramatiq import Retry

from pools.errors import PermanentError, TransientError
from pools.net.netguard import AddressRefused

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class RetryableCall(TransientError, Retry):
    """A transient failure of the call; ``delay`` (ms) is the server's Retry-After, if any.

    Also a ``dramatiq.Retry``: the Retries middleware uses its delay instead of the backoff."""

    kind = "http_retryable"

    def __init__(self, message: str, *, delay_ms: int | None = None, kind: str | None = None,
                 status: int | None = None) -> None:
        TransientError.__init__(self, message, kind=kind)
        self.delay = delay_ms
        self.status = status


@dataclass(frozen=True)
class CallSpec:
    """What a job asks for, validated by the API (``api.schemas.http``)."""

    url: str
    method: str = "GET"
    headers: dict[str, str] | None = None
    body: Any = None  # str: sent as is; anything else: JSON
    timeout_s: float = 30.0
    expect_status: list[int] | None = None
    follow_redirects: bool = False

    def expected(self, status: int) -> bool:
        return status in self.expect_status if self.expect_status else 200 <= status < 300


@dataclass(frozen=True)
class Outcome:
    status_code: int
    latency_ms: float
    url: str
    headers: dict[str, str]
    body: str
    body_encoding: str  # "utf-8" or "base64"
    body_truncated: bool

    def asdict(self) -> dict[str, Any]:
        return asdict(self)


def request_content(spec: CallSpec) -> tuple[bytes | None, dict[str, str]]:
    """The body bytes and the headers to send (JSON bodies get a content type)."""
    headers = dict(spec.headers or {})
    if spec.body is None:
        return None, headers
    if isinstance(spec.body, str):
        return spec.body.encode(), headers
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    return json.dumps(spec.body, separators=(",", ":")).encode(), headers


def retry_after_ms(value: str | None, *, cap_s: float, now: float | None = None) -> int | None:
    """``Retry-After`` (seconds or an HTTP date) in ms, at most ``cap_s``; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (now if now is not None else time.time())
    return int(max(0.0, min(seconds, cap_s)) * 1000)


async def _read_head(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of the (decoded) body; True when there was more."""
    parts, size = [], 0
    async for chunk in response.aiter_bytes():
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    data = b"".join(parts)
    return data[:limit], size > limit


def _text(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:  # a character cut by the 64 KB limit
            return data[:exc.start].decode("utf-8", errors="replace"), "utf-8"
        return base64.b64encode(data).decode("ascii"), "base64"


async def attempt(client: httpx.AsyncClient, spec: CallSpec, *, response_bytes: int,
                  retry_after_cap_s: float) -> Outcome:
    """One call, bounded by ``spec.timeout_s`` as a whole; see the module doc for outcomes."""
    content, headers = request_content(spec)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(spec.timeout_s):
            request = client.build_request(spec.method, spec.url, content=content,
                                           headers=headers, timeout=httpx.Timeout(spec.timeout_s))
            response = await client.send(request, stream=True,
                                         follow_redirects=spec.follow_redirects)
            try:
                body, truncated = await _read_head(response, response_bytes)
            finally:
                await response.aclose()
    except AddressRefused as exc:
        raise PermanentError(f"{spec.url}: {exc} (an internal address; allow its network "
                             f"in http.allowed_networks to call it)", kind="blocked") from exc
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise RetryableCall(f"{spec.url}: no answer within {spec.timeout_s:g} s",
                            kind="timeout") from exc
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise PermanentError(f"{spec.url}: {exc}", kind="bad_url") from exc
    except httpx.TooManyRedirects as exc:
        raise PermanentError(f"{spec.url}: too many redirects", kind="redirects") from exc
    except httpx.TransportError as exc:
        raise RetryableCall(f"{spec.url}: {type(exc).__name__}: {exc}",
                            kind="unreachable") from exc
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    text, encoding = _text(body)
    outcome = Outcome(status_code=response.status_code, latency_ms=latency_ms,
                      url=str(response.url), headers=dict(response.headers.items()),
                      body=text, body_encoding=encoding, body_truncated=truncated)
    return classify(spec, outcome, retry_after_cap_s)


def classify(spec: CallSpec, outcome: Outcome, retry_after_cap_s: float) -> Outcome:
    status = outcome.status_code
    if spec.expected(status):
        return outcome
    snippet = outcome.body[:200] if outcome.body_encoding == "utf-8" else ""
    said = f"{spec.method} {spec.url} answered {status}" + (f": {snippet}" if snippet else "")
    if status >= 500 or status == 429:
        delay = retry_after_ms(_header(outcome.headers, "retry-after"), cap_s=retry_after_cap_s)
        raise RetryableCall(said, delay_ms=delay, kind=f"http_{status}", status=status)
    expected = ", ".join(map(str, spec.expect_status)) if spec.expect_status else "2xx"
    raise PermanentError(f"{said} (expected {expected}; not retried)", kind=f"http_{status}")


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)
