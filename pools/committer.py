"""Group commit: each finished message's job-state move and its ack, many per round trip.

Contract:

* ``add`` never blocks the worker thread: the item is queued for the committer thread.
  (A job's start is not made here: the worker thread needs its answer before it runs the job,
  and a hand-off to this thread and back costs more CPU than the round trip it would share.)
* A message's move (if it has a job record), its result (if its actor stores one) and its
  ack (or nack) are sent in the same MULTI/EXEC, so the record, the result and the broker
  always agree: the job is never acknowledged without its outcome, nor ``succeeded`` without
  its result, nor finished while its message is still pending. Items queued while a commit
  is in flight go together in the next one: under load one round trip serves hundreds of
  jobs; alone, a job is committed at once.
* Until its commit returns, the message stays unacknowledged in the worker's unacked set: if
  the process dies first, the broker requeues it (at least once). Through a Redis outage the
  committer retries until Redis answers (``through_outage``).
* The "finished" hooks (metrics, webhooks) run in the committer thread, after the commit.
* ``close`` commits what is queued (up to a timeout) and sends later items straight through.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import redis
from dramatiq.common import current_millis

from pools.jobs import JobStore, Moved
from pools.maintenance import ack_set_key
from pools.outage import through_outage

log = logging.getLogger(__name__)


@dataclass
class Item:
    queue_name: str  # the consumer's queue (the delay queue for a delayed message)
    message: Any
    command: str  # "ack" or "nack"; "" for a move alone
    move: tuple[str, str, dict[str, Any]] | None = None  # (job id, event, fields)
    result: tuple[str, bytes, int] | None = None  # (result key, encoded result, ttl ms)
    replies: list[Any] = field(default_factory=list)
    commands: int = 0

    @property
    def rid(self) -> str:
        return self.message.options.get("redis_message_id", "") if self.message else ""


class Committer:
    def __init__(self, broker: Any, store: JobStore, *, max_batch: int = 512) -> None:
        self.broker = broker
        self.store = store
        self.max_batch = max_batch
        self._queue: list[Item] = []
        self._inflight: list[Item] = []
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="repertory-committer",
                                        daemon=True)
        self._thread.start()

    @property
    def closed(self) -> bool:
        return self._closed

    def add(self, item: Item) -> bool:
        """Queue ``item``; False once closed (then the caller commits it itself)."""
        with self._cond:
            if self._closed:
                return False
            self._queue.append(item)
            self._cond.notify()
            return True

    def move(self, job_id: str, event: str, **fields: Any) -> Moved:
        """A move made here and now (the committer closed), riding out an outage."""
        return through_outage(lambda: self.store.move(job_id, event, **fields),
                              what=f"recording {event} of job {job_id}")

    def store_result(self, result: tuple[str, bytes, int]) -> None:
        """Store a result here and now (the committer closed), riding out an outage."""
        through_outage(lambda: _result_commands(self.store.redis.pipeline(), result).execute(),
                       what=f"storing the result {result[0]}")

    def pending_ids(self) -> set[str]:
        with self._cond:
            return {i.rid for i in self._queue + self._inflight if i.rid}

    def close(self, timeout_s: float = 10.0) -> bool:
        """Commit what is queued; True when everything was committed in time."""
        with self._cond:
            self._closed = True
            self._cond.notify()
            return self._cond.wait_for(lambda: not self._queue and not self._inflight,
                                       timeout=timeout_s)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed)
                if not self._queue:
                    return
                batch = self._inflight = self._queue[:self.max_batch]
                self._queue = self._queue[self.max_batch:]
            try:
                through_outage(lambda b=batch: self._commit(b),
                               what=f"committing {len(batch)} finished message(s)")
            except Exception:  # a bug: leave them unacked, the audit requeues them
                log.exception("could not commit %d finished message(s)", len(batch))
            with self._cond:
                self._inflight = []
                self._cond.notify_all()

    def _commit(self, batch: list[Item]) -> None:
        todo = batch
        for _ in range(3):  # a Redis restart forgets the scripts: load them, send again
            todo = self._send(todo)
            if not todo:
                break
            self.store.load_scripts()
            dispatch = self.broker.scripts["dispatch"]
            dispatch.sha = self.broker.client.script_load(dispatch.script)
        for item in batch:
            if item.move is not None and item.replies:
                self.store.moved(item.move[0], item.replies[0])

    def _queue_item(self, pipe: Any, item: Item, now: int) -> None:
        """A finished job's move and ack as one script; a move alone; a bare ack or nack
        as Dramatiq's own command."""
        broker, ack = self.broker, item.command == "ack" and item.move is not None
        item.commands = 0
        if item.move is not None:
            job_id, event, fields = item.move
            queue = f"{broker.namespace}:{item.queue_name}"
            keys, args = self.store.move_args(
                job_id, event, **fields,
                ack=(ack_set_key(broker, item.queue_name), f"{queue}.msgs", item.rid)
                if ack else None)
            pipe.evalsha(self.store.move_sha, len(keys), *keys, *args)
            item.commands += 1
        if item.command and not ack:
            pipe.evalsha(broker.scripts["dispatch"].sha, 1, broker.namespace, item.command, now,
                         item.queue_name, broker.broker_id, broker.heartbeat_timeout,
                         broker.dead_message_ttl, 0, broker._max_unpack_size(), item.rid)
            item.commands += 1
        if item.result is not None:  # after the move: its reply stays the first
            _result_commands(pipe, item.result)
            item.commands += len(_RESULT_COMMANDS)

    def _send(self, items: list[Item]) -> list[Item]:
        """One MULTI/EXEC for ``items``; returns those whose scripts were missing."""
        now = current_millis()
        pipe = self.store.redis.pipeline(transaction=True)
        for item in items:
            self._queue_item(pipe, item, now)
        replies = iter(pipe.execute(raise_on_error=False))
        missing = []
        for item in items:
            got = [next(replies) for _ in range(item.commands)]
            errors = [r for r in got if isinstance(r, redis.ResponseError)]
            if any(isinstance(e, redis.exceptions.NoScriptError) or "NOSCRIPT" in str(e)
                   for e in errors):
                missing.append(item)
            elif errors:
                log.error("committing message %s failed: %s", item.rid, errors[0])
            else:
                item.replies = got
        return missing


#: What Dramatiq's ``RedisBackend._store`` sends for a result, in the same order.
_RESULT_COMMANDS = ("delete", "lpush", "pexpire")


def _result_commands(pipe: Any, result: tuple[str, bytes, int]) -> Any:
    key, data, ttl_ms = result
    pipe.delete(key)
    pipe.lpush(key, data)
    pipe.pexpire(key, ttl_ms)
    return pipe
