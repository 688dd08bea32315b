"""The reconciler: job records that say a job is on its way while nothing carries it.

A record that says ``queued``, ``running`` or ``retrying`` must have a message somewhere: in
its queue, its delay queue, a worker's unacked set (all three keep the body in the queue's
``.msgs`` hash until the ack) or the dead letters. When none exists — a write lost when Redis
was killed, a bug, a hand-edited key — the job would stay "running" forever. The reconciler
finds such records and repairs them from the message stored on the record at submit time:

* retries remain (attempts ≤ the actor's max_retries): ``recover`` → queued, re-enqueued;
* none remain, or no message was stored: ``lose`` → dead, with an error saying why.

A record is repaired only when it was found without a message in two sweeps in a row and did
not change in between, and only once it is older than ``min_age_s``: a job being submitted,
retried or requeued is never caught between its two writes. Batch parents carry no message;
one whose children have all finished is settled instead.

One worker at a time sweeps (a Redis lease), every ``reconcile_interval_s``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from config import queues as q
from pools import lifecycle as lc
from pools.admin import fresh_message, message_of
from pools.jobs import JobStore

log = logging.getLogger(__name__)

_MESSAGE_ID = re.compile(rb'"message_id"\s*:\s*"([^"]+)"')
_SUFFIXES = (".msgs", ".DQ.msgs", ".XQ.msgs")
LEASE_KEY = f"{q.PREFIX}:reconciler:lease"


@dataclass
class Sweep:
    recovered: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)


class Reconciler:
    def __init__(self, store: JobStore, broker: Any, *, queues: Iterable[str],
                 max_retries_of: Callable[[str], int], min_age_s: float) -> None:
        self.store = store
        self.broker = broker
        self.queues = tuple(queues)
        self.max_retries_of = max_retries_of
        self.min_age_s = min_age_s
        self._suspects: dict[str, float] = {}

    def take_lease(self, holder: str, ttl_s: float) -> bool:
        """True when ``holder`` may sweep now (it took or already holds the lease)."""
        client = self.store.redis
        if client.set(LEASE_KEY, holder, nx=True, px=int(ttl_s * 1000)):
            return True
        if client.get(LEASE_KEY) == holder.encode():
            client.pexpire(LEASE_KEY, int(ttl_s * 1000))
            return True
        return False

    def sweep(self) -> Sweep:
        done = Sweep()
        candidates = self._candidates()
        if not candidates:
            self._suspects.clear()
            return done
        carried = self._carried_job_ids()
        missing = {}
        for record in candidates:
            if record.get("children_total"):
                if self._settle_parent(record):
                    done.settled.append(record["id"])
            elif record["id"] not in carried:
                missing[record["id"]] = record
        for job_id, record in missing.items():
            if self._suspects.get(job_id) == record.get("updated_at"):
                self._repair(record, done)
        self._suspects = {i: r.get("updated_at") for i, r in missing.items()
                          if i not in done.recovered and i not in done.lost}
        return done

    def _candidates(self) -> list[dict[str, Any]]:
        cutoff = time.time() - self.min_age_s
        ids: list[str] = []
        for status in lc.ACTIVE:
            rows = self.store.redis.zrangebyscore(q.job_index_key(status=status), "-inf",
                                                  int(cutoff * 1_000_000))
            ids += [r.decode() for r in rows]
        return [r for r in self.store.get_many(ids)
                if r["status"] in lc.ACTIVE and float(r.get("updated_at") or 0) < cutoff]

    def _carried_job_ids(self) -> set[str]:
        """Job ids of every message the broker holds, in any queue, state or dead letter."""
        ns, found = self.broker.namespace, set()
        for queue in self.queues:
            for suffix in _SUFFIXES:
                for _, body in self.store.redis.hscan_iter(f"{ns}:{queue}{suffix}", count=1000):
                    if match := _MESSAGE_ID.search(body):
                        found.add(match.group(1).decode())
        return found

    def _settle_parent(self, record: dict[str, Any]) -> bool:
        if record["children_done"] < record["children_total"]:
            return False
        if record.get("cancel_requested"):
            event = "settle_cancelled"
        else:
            event = "settle_ok" if record.get("children_succeeded") else "settle_failed"
        fields = {} if event != "settle_failed" else {
            "error_type": "children", "error_message": "every child job failed"}
        applied, _ = self.store.transition(record["id"], event, finished_at=time.time(),
                                           **fields)
        return applied

    def _repair(self, record: dict[str, Any], done: Sweep) -> None:
        job_id, message = record["id"], record.get("message")
        attempts = int(record.get("attempts") or 0)
        limit = self.max_retries_of(record.get("actor", "")) + 1
        if isinstance(message, dict) and attempts < limit:
            applied, _ = self.store.transition(
                job_id, "recover", error_type="lost_message",
                error_message=f"its message was lost while {record['status']}; "
                              f"re-enqueued by the reconciler")
            if applied:
                self.broker.enqueue(fresh_message(message_of(message), reset_retries=False))
                done.recovered.append(job_id)
                log.warning("reconciler: job %s had no message; re-enqueued", job_id)
            return
        why = ("no copy of its message was kept" if not isinstance(message, dict)
               else f"no retries remain ({attempts} attempts)")
        applied, _ = self.store.transition(
            job_id, "lose", error_type="lost_message", finished_at=time.time(),
            error_message=f"its message was lost while {record['status']} and {why}")
        if applied:
            done.lost.append(job_id)
            log.error("reconciler: job %s had no message and %s; marked dead", job_id, why)
