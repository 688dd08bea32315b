"""Completion webhooks: POST a finished job's summary to its ``callback_url``.

5xx, 429 and network errors retry with exponential backoff; after the retries the message is
dead-lettered in queue ``notify`` (visible and requeueable through the API). Other 4xx answers
are permanent: the receiver refused the payload and asking again will not change that.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any

import dramatiq
import httpx

from config.queues import NOTIFY
from config.settings import get_settings
from pools.errors import PermanentError, TransientError

log = logging.getLogger(__name__)
_notify = get_settings().notify


def signature(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC>`` of the exact body bytes, as sent in X-Repertory-Signature."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(url: str, summary: dict[str, Any], *, timeout_s: float,
            allow_private: bool = False, secret: str | None = None) -> int:
    """POST the summary; returns the status code or raises a typed error.

    The connection goes through the scraper's guarded transport: the name is resolved, every
    address checked (no private, loopback or link-local targets unless allowed) and the
    connection pinned to the checked address, so a webhook cannot be aimed inside the network.
    """
    from actors.scrape.netguard import AddressRefused

    try:
        response = asyncio.run(_post(url, summary, timeout_s, allow_private, secret))
    except AddressRefused as exc:
        raise PermanentError(f"webhook {url} refused: {exc}", kind="bad_target") from exc
    except httpx.HTTPError as exc:
        raise TransientError(f"webhook {url} unreachable: {exc}") from exc
    code = response.status_code
    if code >= 500 or code == 429:
        raise TransientError(f"webhook {url} answered {code}")
    if code >= 400:
        raise PermanentError(f"webhook {url} refused the summary with {code}")
    return code


async def _post(url: str, summary: dict[str, Any], timeout_s: float,
                allow_private: bool, secret: str | None) -> httpx.Response:
    from actors.scrape.transport import GuardedTransport

    body = json.dumps(summary, separators=(",", ":")).encode()
    headers = {"User-Agent": "repertory-webhook/1", "Content-Type": "application/json"}
    if secret:
        headers["X-Repertory-Signature"] = signature(body, secret)
    transport = GuardedTransport(allow_loopback=allow_private)
    async with httpx.AsyncClient(transport=transport, timeout=timeout_s, trust_env=False,
                                 follow_redirects=False, headers=headers) as client:
        return await client.post(url, content=body)


@dramatiq.actor(queue_name=NOTIFY, max_retries=_notify.max_retries,
                min_backoff=_notify.min_backoff_ms, max_backoff=_notify.max_backoff_ms,
                time_limit=int(_notify.timeout_s * 1000) + 5_000)
def notify(url: str, summary: dict[str, Any]) -> None:
    settings = get_settings().notify
    secret = settings.signing_secret.get_secret_value() if settings.signing_secret else None
    try:
        code = deliver(url, summary, timeout_s=settings.timeout_s,
                       allow_private=settings.allow_private_targets, secret=secret)
    except (PermanentError, TransientError) as exc:
        _record(summary, url, error=exc.message)
        raise
    _record(summary, url, status_code=code)


def _record(summary: dict[str, Any], url: str, **outcome: Any) -> None:
    """The attempt's outcome on the job's list of deliveries (the dashboard's job page)."""
    from dramatiq.middleware import CurrentMessage

    from pools import context, history

    message = CurrentMessage.get_current_message()
    attempt = (message.options.get("retries", 0) if message is not None else 0) + 1
    try:
        history.record_delivery(context.store().redis, str(summary.get("id")), url=url,
                                attempt=attempt, ttl_s=get_settings().jobs.record_ttl_s,
                                **outcome)
    except Exception:  # book-keeping: never the reason a delivery fails or retries
        log.debug("delivery of job %s not recorded", summary.get("id"), exc_info=True)
