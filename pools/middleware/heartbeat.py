"""Worker heartbeats: pool, host, pid, queues and device, refreshed every few seconds.

Each worker process keeps a hash ``repertory:worker:<id>`` alive with a TTL of three periods;
``GET /v1/workers`` lists the live ones. Other modules add facts (device memory, model) with
``set_info``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis
from dramatiq.middleware import Middleware

from config.queues import WORKERS_INDEX, worker_key

log = logging.getLogger(__name__)

_info: dict[str, Any] = {}
_providers: list[Callable[[], dict[str, Any]]] = []


def set_info(**facts: Any) -> None:
    _info.update(facts)


def add_provider(provider: Callable[[], dict[str, Any]]) -> None:
    """A callable polled on every beat for fresh facts (e.g. GPU memory in use)."""
    _providers.append(provider)


class Heartbeat(Middleware):
    def __init__(self, client_factory: Callable[[], redis.Redis], *, pool: str | None,
                 interval_s: float) -> None:
        self._client_factory = client_factory
        self.pool = pool or "adhoc"
        self.interval_s = interval_s
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queues: list[str] = []
        self._processed = 0

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._queues = sorted(getattr(worker, "consumer_whitelist", None)
                              or broker.get_declared_queues())
        self._client = self._client_factory()
        self._started = time.time()
        self._thread = threading.Thread(target=self._run, name="repertory-heartbeat",
                                        daemon=True)
        self._thread.start()

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        self._processed += 1

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self._stop.set()
        try:
            self._client.delete(worker_key(self.worker_id))
            self._client.zrem(WORKERS_INDEX, self.worker_id)
        except Exception:  # shutting down anyway
            log.debug("could not remove heartbeat", exc_info=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except Exception:
                log.warning("heartbeat failed", exc_info=True)
            self._stop.wait(self.interval_s)

    def beat(self) -> None:
        facts: dict[str, Any] = {"device": "cpu", **_info}
        for provider in _providers:
            facts.update(provider())
        record = {
            "id": self.worker_id,
            "pool": self.pool,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "queues": self._queues,
            "started_at": self._started,
            "last_seen": time.time(),
            "processed": self._processed,
            **facts,
        }
        ttl = max(3, int(self.interval_s * 3))
        pipe = self._client.pipeline(transaction=False)
        pipe.set(worker_key(self.worker_id), json.dumps(record), ex=ttl)
        pipe.zadd(WORKERS_INDEX, {self.worker_id: time.time()})
        pipe.execute()
