"""Recovery that does not depend on chance, in every worker process.

* At boot and every ``maintenance_interval_s``: the broker's maintenance on every queue
  (dead workers' unacked messages back to their queues), which is also this worker's broker
  heartbeat; then the audit of this worker's own unacked set (``pools.maintenance``).
* Every ``reconcile_interval_s``, in the one worker holding the lease: the job-record
  reconciler (``pools.reconcile``).
* At shutdown, messages still running after the grace are put back on their queue and their
  jobs marked ``queued`` with an error naming the shutdown, instead of waiting for the
  heartbeat timeout.

Must sit first in the middleware list, so it sees every message a thread takes (even one a
later ``before_process_message`` skips) until it is acknowledged.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from dramatiq.middleware import Middleware

from pools.jobs import JobStore
from pools.maintenance import AckAudit, maintain_queues
from pools.reconcile import Reconciler

log = logging.getLogger(__name__)


class Recovery(Middleware):
    def __init__(self, store_factory: Callable[[], JobStore], *, queues: tuple[str, ...],
                 interval_s: float, reconcile_interval_s: float, reconcile_after_s: float,
                 max_retries: int, grace_s: float) -> None:
        self._store_factory = store_factory
        self.queues = queues
        self.interval_s = interval_s
        self.reconcile_interval_s = reconcile_interval_s
        self.reconcile_after_s = reconcile_after_s
        self.max_retries = max_retries
        self.grace_s = grace_s
        self.holder = uuid.uuid4().hex
        self._running: dict[str, Any] = {}  # broker message id → message, until acked
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._broker: Any = None
        self._worker: Any = None
        self._audit = AckAudit()
        self._reconciler: Reconciler | None = None

    # -- tracking -------------------------------------------------------------------------
    def before_process_message(self, broker: Any, message: Any) -> None:
        with self._lock:
            self._running[message.options.get("redis_message_id", "")] = message

    def after_ack(self, broker: Any, message: Any) -> None:
        self._forget(message)

    def after_nack(self, broker: Any, message: Any) -> None:
        self._forget(message)

    def _forget(self, message: Any) -> None:
        with self._lock:
            self._running.pop(message.options.get("redis_message_id", ""), None)

    # -- the timer ------------------------------------------------------------------------
    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        self._broker, self._worker = broker, worker
        self._reconciler = Reconciler(
            self._store_factory(), broker, queues=self._all_queues(),
            max_retries_of=self._max_retries_of, min_age_s=self.reconcile_after_s)
        self._safely(self._maintain)
        threading.Thread(target=self._run, name="repertory-recovery", daemon=True).start()

    def _all_queues(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.queues) | {
            name for name in self._broker.get_declared_queues() if not name.endswith(".DQ")}))

    def _run(self) -> None:
        next_reconcile = time.monotonic() + self.reconcile_interval_s
        while not self._stop.wait(self.interval_s):
            self._safely(self._maintain)
            self._safely(lambda: self._audit.sweep(self._broker, self._worker,
                                                   self._running_ids()))
            if time.monotonic() >= next_reconcile:
                next_reconcile = time.monotonic() + self.reconcile_interval_s
                self._safely(self._reconcile)

    def _maintain(self) -> None:
        maintain_queues(self._broker, self._all_queues())

    def _reconcile(self) -> None:
        assert self._reconciler is not None
        if self._reconciler.take_lease(self.holder, self.reconcile_interval_s * 3):
            self._reconciler.sweep()

    def _running_ids(self) -> list[str]:
        """Messages this process still holds: running, or finished and not yet committed."""
        with self._lock:
            held = list(self._running)
        committer = getattr(self._broker, "committer", None)
        return held + list(committer.pending_ids() if committer is not None else ())

    def _max_retries_of(self, actor_name: str) -> int:
        actor = self._broker.actors.get(actor_name)
        found = actor.options.get("max_retries") if actor is not None else None
        return self.max_retries if found is None else int(found)

    @staticmethod
    def _safely(step: Callable[[], Any]) -> None:
        try:
            step()
        except Exception as exc:  # Redis away: the next tick tries again
            log.warning("recovery step failed: %s", exc)

    # -- shutdown -------------------------------------------------------------------------
    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self._stop.set()

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        # The job-state middleware has committed what finished (its hook runs first).
        with self._lock:
            left = list(self._running.values())
        for message in left:
            self._safely(lambda m=message: self._put_back(broker, m))

    def _put_back(self, broker: Any, message: Any) -> None:
        store = self._reconciler.store if self._reconciler else self._store_factory()
        store.transition(
            message.message_id, "interrupt", error_type="shutdown",
            error_message=f"the worker stopped while this job ran (its {self.grace_s:g} s "
                          f"grace ran out); requeued")
        broker.do_requeue(message.queue_name, message.options["redis_message_id"])
        log.warning("job %s was still running at shutdown; requeued", message.message_id)
