"""Queue depths for the dashboard's history: every API process offers a sample every
``EVERY_S``; one per minute is kept (``pools.history.sample_depths``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pools import history

log = logging.getLogger(__name__)

EVERY_S = 10.0


def _run(service: Any, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            history.sample_depths(service.store.redis, service.admin.all_stats)
        except Exception as exc:  # Redis away: the chart has a gap, nothing else
            log.debug("queue depth sample skipped: %s", exc)
        stop.wait(EVERY_S)


@asynccontextmanager
async def sampling(app: Any) -> AsyncIterator[None]:
    """A FastAPI lifespan: the sampler thread runs while the app serves."""
    stop = threading.Event()
    thread = threading.Thread(target=_run, args=(app.state.service, stop),
                              name="repertory-depths", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
