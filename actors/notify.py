"""Completion webhooks: POST a finished job's summary to its ``callback_url``.

5xx, 429 and network errors retry with exponential backoff; after the retries the message is
dead-lettered in queue ``notify`` (visible and requeueable through the API). Other 4xx answers
are permanent: the receiver refused the payload and asking again will not change that.
"""

from __future__ import annotations

from typing import Any

import dramatiq
import httpx

from config.queues import NOTIFY
from config.settings import get_settings
from pools.errors import PermanentError, TransientError

_notify = get_settings().notify


def deliver(url: str, summary: dict[str, Any], *, timeout_s: float) -> int:
    """POST the summary; returns the status code or raises a typed error."""
    try:
        response = httpx.post(url, json=summary, timeout=timeout_s, follow_redirects=False,
                              headers={"User-Agent": "repertory-webhook/1"})
    except httpx.HTTPError as exc:
        raise TransientError(f"webhook {url} unreachable: {exc}") from exc
    code = response.status_code
    if code >= 500 or code == 429:
        raise TransientError(f"webhook {url} answered {code}")
    if code >= 400:
        raise PermanentError(f"webhook {url} refused the summary with {code}")
    return code


@dramatiq.actor(queue_name=NOTIFY, max_retries=_notify.max_retries,
                min_backoff=_notify.min_backoff_ms, max_backoff=_notify.max_backoff_ms,
                time_limit=int(_notify.timeout_s * 1000) + 5_000)
def notify(url: str, summary: dict[str, Any]) -> None:
    deliver(url, summary, timeout_s=get_settings().notify.timeout_s)
