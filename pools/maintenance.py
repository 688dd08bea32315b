"""Broker upkeep that must not depend on chance.

Dramatiq's Redis broker requeues the unacked messages of dead workers only inside a
"maintenance" pass that runs on a random 0.1 % of broker calls, and only for the queue of
that call: on an idle stack a crashed worker's job may wait forever. Each worker here runs
``maintain_queues`` at boot and every ``maintenance_interval_s``, for every queue and its
delay queue, which also serves as the worker's broker heartbeat.

``AckAudit`` finds messages in this worker's own unacked sets that the process no longer
holds. Dramatiq leaves them there when its consumer restarts after a connection error (it
drops the prefetched and delayed messages it had in memory) or when a Redis restart loses an
ack: the worker is alive, so the broker never requeues them. A message missing from every
place the process keeps messages, in two sweeps in a row, is moved back to its queue.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from dramatiq.common import current_millis, dq_name

log = logging.getLogger(__name__)


def maintain_queues(broker: Any, queues: Iterable[str]) -> None:
    """Run the broker's maintenance on each queue and delay queue now (one pipeline)."""
    dispatch = broker.scripts["dispatch"]
    now = current_millis()
    pipe = broker.client.pipeline(transaction=False)
    for name in sorted(set(queues)):
        for queue in (name, dq_name(name)):
            dispatch(keys=[broker.namespace], client=pipe, args=[
                "qsize", now, queue, broker.broker_id, broker.heartbeat_timeout,
                broker.dead_message_ttl, 1, broker._max_unpack_size(),
            ])
    pipe.execute()


def ack_set_key(broker: Any, queue: str) -> str:
    return f"{broker.namespace}:__acks__.{broker.broker_id}.{queue}"


def held_message_ids(worker: Any, running: Iterable[str]) -> set[str]:
    """Broker ids of every message this process holds: running, waiting for a thread,
    delayed in memory, or prefetched and not yet handed out."""
    held = set(running)
    held.update(_rid(item.message) for item in list(worker.work_queue.queue))
    for thread in list(worker.consumers.values()):
        held.update(_rid(item.message) for item in list(thread.delay_queue.queue))
        consumer = thread.consumer
        for raw in list(getattr(consumer, "message_cache", None) or ()):
            try:
                held.add(json.loads(raw)["options"]["redis_message_id"])
            except (ValueError, KeyError, TypeError):
                continue
    return held


def _rid(message: Any) -> str:
    return message.options.get("redis_message_id", "")


class AckAudit:
    """Two-sweep detection of unacked messages this process no longer holds."""

    def __init__(self) -> None:
        self._suspects: set[tuple[str, str]] = set()

    def sweep(self, broker: Any, worker: Any, running: Iterable[str]) -> list[str]:
        queues = list(worker.consumers)
        pipe = broker.client.pipeline(transaction=False)
        for queue in queues:
            pipe.smembers(ack_set_key(broker, queue))
        unacked = {(queue, rid.decode()) for queue, members in zip(queues, pipe.execute(),
                                                                   strict=True)
                   for rid in members}
        held = held_message_ids(worker, running)
        orphans = {(queue, rid) for queue, rid in unacked if rid not in held}
        confirmed, self._suspects = orphans & self._suspects, orphans - self._suspects
        for queue, rid in sorted(confirmed):
            log.warning("message %s is unacked on %s but no longer held by this worker; "
                        "requeueing it", rid, queue)
            broker.do_requeue(queue, rid)
        return [rid for _, rid in sorted(confirmed)]
