"""Worker recycling (Celery's max-tasks-per-child).

After ``max_tasks`` messages (plus any other threads' messages already in hand) the worker
process stops taking messages and asks its own Dramatiq parent to stop gracefully;
the supervisor in ``pools.launcher`` starts a fresh one. Only that process restarts: each
supervised Dramatiq instance runs exactly one worker process. Outside the supervisor (a plain
``dramatiq`` command) recycling is off, since stopping the parent would stop every process.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

from dramatiq.middleware import Middleware

log = logging.getLogger(__name__)


class Recycle(Middleware):
    def __init__(self, max_tasks: int, *, supervised: bool) -> None:
        self.max_tasks = max_tasks
        self.enabled = max_tasks > 0 and supervised
        self._count = 0
        self._lock = threading.Lock()
        self._signalled = False
        self._worker: Any = None

    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        # Before, not after: threads take messages while slow boot hooks (model loading)
        # still run, and the budget may be reached before "after boot" fires.
        self._worker = worker

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        self._tick()

    def after_skip_message(self, broker: Any, message: Any) -> None:
        self._tick()

    def _tick(self) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._count += 1
            if self._count < self.max_tasks or self._signalled:
                return
            self._signalled = True
        log.info("recycling worker process %d after %d messages", os.getpid(), self._count)
        # Stop taking messages now (threads finish the one they hold); what is prefetched is
        # requeued by the graceful shutdown that the parent's SIGTERM starts.
        for thread in getattr(self._worker, "workers", ()):
            thread.stop()
        os.kill(os.getppid(), signal.SIGTERM)
