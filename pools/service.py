"""Job operations the API performs: submit, batch, retry, cancel, requeue dead letters.

Routes call these; they hold the order that keeps accepted work safe: the job record is
written before the message is enqueued, and a failed enqueue removes the record again so a
client never holds the id of a job that cannot run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq import Message
from dramatiq.results import ResultMissing

from config import queues as q
from config.settings import Settings
from pools import jobs as j
from pools.admin import QueueAdmin, fresh_message, message_of
from pools.broker import build_result_backend, build_store, redis_client, redis_url
from pools.submit import asubmit_with_record, submit_with_record
from pools.urls import validate_callback_url

log = logging.getLogger(__name__)


class JobNotFound(LookupError):
    pass


class ResultExpired(LookupError):
    """The job succeeded but its result is past its TTL (HTTP 410)."""


class InvalidTransition(RuntimeError):
    """The job is in a state that does not allow the operation (HTTP 409)."""


@dataclass(frozen=True)
class Submission:
    job: dict[str, Any]
    created: bool


class JobService:
    metrics_registry: Any = None

    def __init__(self, settings: Settings, broker: dramatiq.Broker) -> None:
        self.settings = settings
        self.broker = broker
        client = redis_client(settings)  # one connection pool for every reader here
        self.store = build_store(settings, client)
        self.admin = QueueAdmin(client, settings.redis.namespace)
        self.results = build_result_backend(settings, client)
        self._async_redis: Any = None

    # -- submit ---------------------------------------------------------------------------
    def submit(
        self, actor_name: str, *, kind: str, args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None, idempotency_key: str | None = None,
        callback_url: str | None = None, delay_ms: int | None = None,
        parent_id: str | None = None, summary: dict[str, Any] | None = None,
    ) -> Submission:
        job_id = j.new_job_id()
        self._check_callback(callback_url)
        if (earlier := self._claim(kind, idempotency_key, job_id)) is not None:
            return earlier
        message, record = self._message(actor_name, job_id, kind, args, kwargs, delay_ms,
                                        parent_id=parent_id, idempotency_key=idempotency_key,
                                        callback_url=callback_url, summary=summary)
        try:
            created = submit_with_record(self.broker, self.store, message, delay_ms, record)
        except Exception:
            if idempotency_key:
                self.store.release_idempotency(kind, idempotency_key)
            raise
        return Submission(created, created=True)

    async def asubmit(
        self, actor_name: str, *, kind: str, args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None, idempotency_key: str | None = None,
        callback_url: str | None = None, delay_ms: int | None = None,
        summary: dict[str, Any] | None = None,
    ) -> Submission:
        """``submit`` without leaving the event loop: one script on an asyncio client."""
        job_id = j.new_job_id()
        self._check_callback(callback_url)
        client = self.async_redis()
        if idempotency_key:
            rkey = q.idempotency_key(kind, idempotency_key)
            if not await client.set(rkey, job_id, nx=True,
                                    ex=self.settings.jobs.idempotency_ttl_s):
                held = await client.get(rkey)
                raw = await client.hgetall(q.job_key(held.decode())) if held else None
                if raw:
                    return Submission(j.decode_record(raw), created=False)
        message, record = self._message(actor_name, job_id, kind, args, kwargs, delay_ms,
                                        idempotency_key=idempotency_key,
                                        callback_url=callback_url, summary=summary)
        try:
            created = await asubmit_with_record(self.broker, client, message, delay_ms, record)
        except Exception:
            if idempotency_key:
                await client.delete(q.idempotency_key(kind, idempotency_key))
            raise
        return Submission(created, created=True)

    def async_redis(self) -> Any:
        """An asyncio Redis client for this process's event loop (made on first use)."""
        if self._async_redis is None:
            from pools.aioredis import async_client

            self._async_redis = async_client(redis_url(self.settings))
        return self._async_redis

    def _message(self, actor_name: str, job_id: str, kind: str, args: Sequence[Any],
                 kwargs: dict[str, Any] | None, delay_ms: int | None,
                 **fields: Any) -> tuple[Message, dict[str, Any]]:
        actor = self.broker.get_actor(actor_name)
        # job_kind: the worker's log lines name the job's kind (pools.logs)
        message = actor.message_with_options(args=tuple(args), kwargs=kwargs or {},
                                             job_kind=kind)
        message = message.copy(message_id=job_id)
        eta = time.time() + delay_ms / 1000 if delay_ms else None
        record = dict(kind=kind, queue=actor.queue_name, actor=actor_name,
                      message=message.asdict(), eta=eta, **fields)
        return message, record

    def submit_batch(
        self, actor_name: str, *, kind: str, items: Sequence[tuple[Sequence[Any], dict]],
        child_kind: str, idempotency_key: str | None = None, callback_url: str | None = None,
        summary: dict[str, Any] | None = None,
        child_summaries: Sequence[dict[str, Any]] | None = None,
    ) -> Submission:
        """A parent job with one child per item; the parent finishes when every child has."""
        parent_id = j.new_job_id()
        self._check_callback(callback_url)
        if (earlier := self._claim(kind, idempotency_key, parent_id)) is not None:
            return earlier
        actor = self.broker.get_actor(actor_name)
        self.store.create(parent_id, kind=kind, queue=actor.queue_name, actor=actor_name,
                          children_total=len(items), idempotency_key=idempotency_key,
                          callback_url=callback_url, summary=summary)
        try:
            for index, (args, kwargs) in enumerate(items):
                self.submit(actor_name, kind=child_kind, args=args, kwargs=kwargs,
                            parent_id=parent_id,
                            summary=child_summaries[index] if child_summaries else None)
        except Exception:
            try:  # Redis may be what failed: then the cleanup schedule's sweep finishes this
                self.abandon_batch(parent_id)
            except Exception:
                log.warning("batch %s: could not abandon it now; the sweep will", parent_id)
            raise
        return Submission(self.store.get(parent_id) or {}, created=True)

    def abandon_batch(self, parent_id: str) -> None:
        """A batch that could not be queued whole was not accepted (the client got an error):
        cancel it and the children already queued, and free its Idempotency-Key for a retry."""
        record = self.get(parent_id)
        if record.get("idempotency_key"):
            self.store.release_idempotency(record["kind"], record["idempotency_key"])
        self.store.set_fields(parent_id, error_type="not_accepted", error_message=(
            f"not accepted: only {self.store.count_children(parent_id)} of "
            f"{record.get('children_total', 0)} children could be queued"))
        if record["status"] not in j.TERMINAL:
            self.cancel(parent_id)

    def sweep_incomplete_batches(self, older_than_s: float) -> int:
        """Abandon active batch parents older than ``older_than_s`` that have fewer children
        than they announced: their enqueue failed partway and the cleanup could not run."""
        cutoff, swept = time.time() - older_than_s, 0
        for status in j.ACTIVE:
            cursor = None
            while True:
                page = self.store.list(status=status, limit=500, cursor=cursor)
                for record in page.items:
                    total = int(record.get("children_total") or 0)
                    if (total and float(record.get("created_at") or 0) < cutoff
                            and self.store.count_children(record["id"]) < total):
                        self.abandon_batch(record["id"])
                        swept += 1
                if not (cursor := page.next_cursor):
                    break
        return swept

    def _claim(self, kind: str, key: str | None, job_id: str) -> Submission | None:
        """The earlier submission holding this Idempotency-Key, if there is one."""
        if not key:
            return None
        held = self.store.claim_idempotency(kind, key, job_id,
                                            self.settings.jobs.idempotency_ttl_s)
        existing = self.store.get(held) if held is not None else None
        return Submission(existing, created=False) if existing is not None else None

    def _check_callback(self, url: str | None) -> None:
        if url:
            validate_callback_url(url, allow_private=self.settings.notify.allow_private_targets)

    def call(self, actor_name: str, *args: Any, timeout_s: float | None = None,
             **kwargs: Any) -> Any:
        """Ask a worker and wait for the answer (see ``pools.rpc``)."""
        from pools.rpc import call

        limit = timeout_s if timeout_s is not None else self.settings.api.rpc_timeout_s
        return call(self.broker, self.results, actor_name, *args, timeout_s=limit, **kwargs)

    # -- read -----------------------------------------------------------------------------
    def get(self, job_id: str) -> dict[str, Any]:
        record = self.store.get(job_id)
        if record is None:
            raise JobNotFound(job_id)
        return record

    def result(self, job_id: str) -> Any:
        record = self.get(job_id)
        if not record.get("has_result"):
            raise InvalidTransition(f"job {job_id} is {record['status']} and has no result")
        message = Message(queue_name=record["queue"], actor_name=record["actor"], args=(),
                          kwargs={}, options={}, message_id=job_id)
        try:
            return self.results.get_result(message, block=False)
        except ResultMissing:
            raise ResultExpired(f"the result of job {job_id} has expired (results are kept "
                                f"{self.settings.jobs.result_ttl_s} s)") from None

    # -- retry, cancel, dead letters ------------------------------------------------------
    def retry(self, job_id: str) -> dict[str, Any]:
        """Run a failed or dead job again; for a batch, its failed and dead children."""
        record = self.get(job_id)
        if record.get("children_total"):
            children = [c for c in self.store.get_many(self.store.children(job_id))
                        if c["status"] in (j.FAILED, j.DEAD)]
            if not children:
                raise InvalidTransition(f"batch {job_id} has no failed or dead children to "
                                        f"retry (it is {record['status']})")
            self._retry_records(children)
            return self.get(job_id)
        if record["status"] not in (j.FAILED, j.DEAD):
            raise InvalidTransition(f"only failed or dead jobs can be retried; "
                                    f"job {job_id} is {record['status']}")
        # The record as the retry left it (queued), read before its message is on the queue:
        # read afterwards, an idle worker may already have run it again.
        (requeued,) = self._retry_records([record], read_back=True)
        return requeued or self.get(job_id)

    def _retry_records(self, records: list[dict[str, Any]], *,
                       read_back: bool = False) -> list[dict[str, Any] | None]:
        """Requeue each record's message; with ``read_back``, the records as requeued."""
        requeued: list[dict[str, Any] | None] = []
        by_queue: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_queue.setdefault(record["queue"], []).append(record)
        for queue, group in by_queue.items():
            taken = {m.message_id: m for m in self.admin.take_dead(queue, [r["id"] for r in group])}
            for record in group:
                stored = record.get("message")
                message = taken.get(record["id"]) or (message_of(stored) if stored else None)
                if message is None:
                    raise InvalidTransition(f"job {record['id']} kept no message to retry")
                requeued.append(self._requeue(message, read_back=read_back))
        return requeued

    def requeue_dead(self, queue: str, message_ids: list[str] | None) -> list[str]:
        requeued = []
        for message in self.admin.take_dead(queue, message_ids):
            self._requeue(message)
            requeued.append(message.message_id)
        return requeued

    def _requeue(self, message: Message, *, read_back: bool = False) -> dict[str, Any] | None:
        """Back on its queue with fresh retries; its record (if any) ``queued`` again. Were
        the enqueue to fail after the move, the reconciler re-enqueues from the record.
        ``read_back``: returns the record as the move left it, read before the enqueue."""
        self.store.transition(message.message_id, "requeue", error_type=None,
                              error_message=None, finished_at=None, has_result=None,
                              cancel_requested=None)
        record = self.store.get(message.message_id) if read_back else None
        self.broker.enqueue(fresh_message(message))
        return record

    def cancel(self, job_id: str) -> dict[str, Any]:
        record = self.get(job_id)
        if record["status"] in j.TERMINAL:
            raise InvalidTransition(f"job {job_id} already {record['status']}")
        self.store.request_cancel(job_id)
        # Queued or waiting for a retry: it will never run (the middleware skips it). Running:
        # the actor sees the flag and stops. The store calls the "finished" hooks.
        self.store.transition(job_id, "cancel", finished_at=time.time())
        for child in self.store.get_many(self.store.children(job_id)):
            if child["status"] not in j.TERMINAL:
                try:
                    self.cancel(child["id"])
                except InvalidTransition:  # it finished meanwhile
                    continue
        return self.get(job_id)
