"""The job-state store: one Redis hash per job, indexed for listing by kind and status.

Dramatiq has no job states; this module adds them. Records are written by the API (``create``)
and by the job-state middleware on every transition (``transition``). A transition is one Lua
script, so the record, the status indexes and a batch parent's child counters never disagree.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis

from config import queues as q
from pools import lifecycle as lc
from pools.lifecycle import (  # noqa: F401 (re-exported: callers read states from here too)
    ACTIVE,
    CANCELLED,
    DEAD,
    FAILED,
    QUEUED,
    RETRYING,
    RUNNING,
    STATUSES,
    SUCCEEDED,
    TERMINAL,
)
from pools.own_connection import OwnConnections
from pools.scripts import TRANSITION_LUA

_INT_FIELDS = ("attempts", "children_total", "children_done", "cancel_requested")
_FLOAT_FIELDS = ("created_at", "started_at", "finished_at", "updated_at", "eta")
_JSON_FIELDS = ("progress", "message", "summary")


def new_job_id() -> str:
    return uuid.uuid4().hex


def events_key(job_id: str) -> str:
    """The job's timeline: a list the transition script appends to (``pools.scripts``)."""
    return q.job_key(job_id) + ":events"


@dataclass(frozen=True)
class NewRecord:
    """A new record as Redis stores it: its fields, its index keys and its score."""

    fields: dict[str, str]
    score: int
    indexes: tuple[str, ...]
    children_key: str | None

    def decoded(self) -> dict[str, Any]:
        return decode_record({k.encode(): v.encode() for k, v in self.fields.items()})


def new_record(job_id: str, *, kind: str, queue: str, actor: str,
               message: dict[str, Any] | None = None, parent_id: str | None = None,
               idempotency_key: str | None = None, callback_url: str | None = None,
               children_total: int = 0, eta: float | None = None,
               summary: dict[str, Any] | None = None) -> NewRecord:
    now = time.time()
    score = int(now * 1_000_000)
    fields: dict[str, Any] = {
        "id": job_id, "kind": kind, "queue": queue, "actor": actor, "status": QUEUED,
        "attempts": 0, "created_at": now, "updated_at": now, "score": score,
        "children_total": children_total, "children_done": 0,
    }
    optional = {
        "parent_id": parent_id,
        "idempotency_key": idempotency_key,
        "callback_url": callback_url,
        "eta": eta,
        "message": json.dumps(message) if message is not None else None,
        "summary": json.dumps(summary) if summary is not None else None,
    }
    fields.update({k: v for k, v in optional.items() if v is not None})
    indexes = (q.job_index_key(), q.job_index_key(kind=kind), q.job_index_key(status=QUEUED),
               q.job_index_key(kind=kind, status=QUEUED))
    return NewRecord({k: str(v) for k, v in fields.items()}, score, indexes,
                     q.children_key(parent_id) if parent_id else None)


@dataclass(frozen=True)
class Moved:
    applied: bool
    previous: str | None
    event: str
    record: dict[str, Any] | None  # when the move finished the job


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


class JobStore:
    """Reads and writes job records. Thread-safe (redis-py pools its connections)."""

    def __init__(self, client: redis.Redis, *, record_ttl_s: int = 7 * 86_400) -> None:
        self.redis = client
        self.record_ttl_s = record_ttl_s
        self._transition = client.register_script(TRANSITION_LUA)
        self._own = OwnConnections(client)

    # -- create and read ------------------------------------------------------------------
    def create(self, job_id: str, **fields: Any) -> dict[str, Any]:
        """Write a new ``queued`` record (see ``new_record`` for the fields)."""
        record = new_record(job_id, **fields)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(q.job_key(job_id), mapping=record.fields)
        for index in record.indexes:
            pipe.zadd(index, {job_id: record.score})
        if record.children_key:
            pipe.sadd(record.children_key, job_id)
        pipe.execute()
        return self.get(job_id) or {}

    def get(self, job_id: str) -> dict[str, Any] | None:
        raw = self.redis.hgetall(q.job_key(job_id))
        return decode_record(raw) if raw else None

    def summary(self, job_id: str) -> dict[str, Any] | None:
        """The record's ``SUMMARY_FIELDS`` (what the "finished" hooks see)."""
        raw = self.redis.hmget(q.job_key(job_id), lc.SUMMARY_FIELDS)
        found = {f.encode(): v for f, v in zip(lc.SUMMARY_FIELDS, raw, strict=True)
                 if v is not None}
        return decode_record(found) if found else None

    def get_many(self, job_ids: Iterable[str]) -> list[dict[str, Any]]:
        pipe = self.redis.pipeline(transaction=False)
        ids = list(job_ids)
        for job_id in ids:
            pipe.hgetall(q.job_key(job_id))
        return [decode_record(raw) for raw in pipe.execute() if raw]

    def events(self, job_id: str) -> list[dict[str, Any]]:
        """The job's timeline: every applied move, oldest first (see ``pools.scripts``)."""
        return [json.loads(e) for e in self.redis.lrange(events_key(job_id), 0, -1)]

    def children(self, job_id: str) -> list[str]:
        return sorted(m.decode() for m in self.redis.smembers(q.children_key(job_id)))

    def count_children(self, job_id: str) -> int:
        return int(self.redis.scard(q.children_key(job_id)))

    def list(
        self, *, kind: str | None = None, status: str | None = None, limit: int = 50,
        cursor: str | None = None, since: float | None = None, until: float | None = None,
    ) -> Page:
        """Newest first. ``cursor`` is the opaque ``next_cursor`` of the previous page;
        ``since`` / ``until`` bound the creation time (epoch seconds)."""
        top: str | float = f"({int(cursor)}" if cursor else (
            "+inf" if until is None else int(until * 1_000_000))
        bottom: str | int = "-inf" if since is None else int(since * 1_000_000)
        key = q.job_index_key(kind=kind, status=status)
        rows = self.redis.zrevrangebyscore(key, top, bottom, start=0, num=limit + 1,
                                           withscores=True)
        more = len(rows) > limit
        rows = rows[:limit]
        items = self.get_many(member.decode() for member, _ in rows)
        next_cursor = str(int(rows[-1][1])) if more and rows else None
        return Page(items=items, next_cursor=next_cursor)

    def count_by(self, kinds: Iterable[str]) -> dict[tuple[str, str], int]:
        pipe = self.redis.pipeline(transaction=False)
        pairs = [(k, s) for k in kinds for s in STATUSES]
        for kind, status in pairs:
            pipe.zcard(q.job_index_key(kind=kind, status=status))
        return dict(zip(pairs, pipe.execute(), strict=True))

    def kinds(self) -> list[str]:
        found = set()
        for key in self.redis.scan_iter(match=f"{q.PREFIX}:jobs:kind:*", count=500):
            parts = key.decode().split(":")
            if len(parts) == 4:
                found.add(parts[3])
        return sorted(found)

    # -- transitions ----------------------------------------------------------------------
    def transition(self, job_id: str, event: str, **fields: Any) -> tuple[bool, str | None]:
        """Apply the lifecycle move ``event`` (see ``pools.lifecycle.EVENTS``) to a job.

        Returns ``(applied, previous_status)``; ``previous_status`` is None for an unknown job.
        A field given as ``None`` is removed from the record. A move into a terminal state (of
        the job, or of its batch parent) calls the "finished" hooks once.
        """
        moved = self.move(job_id, event, **fields)
        return moved.applied, moved.previous

    def move(self, job_id: str, event: str, **fields: Any) -> Moved:
        """``transition``, with the event actually applied (``start`` and ``succeed`` become
        ``stop`` when the cancel flag is set) and the record when it finished."""
        keys, args = self.move_args(job_id, event, **fields)
        return self.moved(job_id, self._transition(keys=keys, args=args))

    def move_own(self, job_id: str, event: str, **fields: Any) -> Moved:
        """``move`` on the calling thread's own connection (``pools.own_connection``): a
        worker thread's ``start``, once per job."""
        keys, args = self.move_args(job_id, event, **fields)
        command = (len(keys), *keys, *args)
        try:
            reply = self._own.call("EVALSHA", self._transition.sha, *command)
        except redis.exceptions.NoScriptError:  # a restarted server forgot it
            self.load_scripts()
            reply = self._own.call("EVALSHA", self._transition.sha, *command)
        return self.moved(job_id, reply)

    def move_args(self, job_id: str, event: str, *, ack: tuple[str, str, str] | None = None,
                  **fields: Any) -> tuple[list[str], list[str]]:
        """The transition script's keys and arguments (for callers that pipeline it).

        ``ack``: ``(unacked set, queue's bodies hash, broker message id)``: the script then
        acknowledges the message in the same step."""
        if event not in lc.EVENTS:
            raise ValueError(f"unknown lifecycle event {event!r}")
        keys = [q.job_key(job_id)]
        if ack is not None:
            keys += [ack[0], ack[1]]
        args: list[str] = [q.PREFIX, event, repr(time.time()), str(self.record_ttl_s),
                           ack[2] if ack is not None else ""]
        for name, value in fields.items():
            args += [name, "\0" if value is None else _encode(name, value)]
        return keys, args

    @property
    def move_sha(self) -> str:
        return self._transition.sha

    def load_scripts(self) -> None:
        self._transition.sha = self.redis.script_load(self._transition.script)

    def moved(self, job_id: str, reply: list[Any]) -> Moved:
        """Read the script's reply; call the "finished" hooks for what it finished."""
        applied, old, parent_event, event, raw = reply
        summary = {f.encode(): v for f, v in zip(lc.SUMMARY_FIELDS, raw, strict=False)
                   if v is not None}
        moved = Moved(applied == 1, _text(old) or None, _text(event),
                      decode_record(summary) if summary else None)
        if moved.record is not None:
            lc.emit_finished(self, moved.record)
        parent_event = _text(parent_event)
        # A parent settles only when its child finished: the child's summary names it.
        if moved.record and parent_event and lc.EVENTS[parent_event].target in TERMINAL:
            parent = self.summary(moved.record["parent_id"])
            if parent is not None:
                lc.emit_finished(self, parent)
        return moved

    def exists(self, job_id: str) -> bool:
        return bool(self.redis.exists(q.job_key(job_id)))

    def delete(self, job_id: str) -> None:
        """Forget a job entirely: its record, its index entries and its place among its
        parent's children (all allowed even when the server is out of memory)."""
        record = self.get(job_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(q.job_key(job_id), events_key(job_id))
        if record is not None:
            kind, status = record["kind"], record["status"]
            for index in (q.job_index_key(), q.job_index_key(kind=kind),
                          q.job_index_key(status=status),
                          q.job_index_key(kind=kind, status=status)):
                pipe.zrem(index, job_id)
            if record.get("parent_id"):
                pipe.srem(q.children_key(record["parent_id"]), job_id)
        pipe.execute()

    def set_fields(self, job_id: str, **fields: Any) -> None:
        mapping = {k: _encode(k, v) for k, v in fields.items() if v is not None}
        if mapping:
            self.redis.hset(q.job_key(job_id), mapping=mapping)

    def set_progress(self, job_id: str, done: float | None, total: float | None,
                     **extra: Any) -> None:
        progress = {"done": done, "total": total, **extra, "updated_at": time.time()}
        self.redis.hset(q.job_key(job_id), "progress", json.dumps(progress))

    def request_cancel(self, job_id: str) -> None:
        self.redis.hset(q.job_key(job_id), "cancel_requested", 1)

    def cancel_requested(self, job_id: str) -> bool:
        return self.redis.hget(q.job_key(job_id), "cancel_requested") == b"1"

    # -- idempotency ----------------------------------------------------------------------
    def claim_idempotency(self, scope: str, key: str, job_id: str, ttl_s: int) -> str | None:
        """Claim ``key`` for ``job_id``. Returns the job id that already holds it, if any."""
        rkey = q.idempotency_key(scope, key)
        if self.redis.set(rkey, job_id, nx=True, ex=ttl_s):
            return None
        held = self.redis.get(rkey)
        return held.decode() if held else None

    def release_idempotency(self, scope: str, key: str) -> None:
        self.redis.delete(q.idempotency_key(scope, key))

    # -- housekeeping ---------------------------------------------------------------------
    def prune_indexes(self, older_than_s: float) -> int:
        """Drop index entries whose records have expired (run by the cleanup schedule)."""
        cutoff = int((time.time() - older_than_s) * 1_000_000)
        removed = 0
        for key in self.redis.scan_iter(match=f"{q.PREFIX}:jobs:*", count=500):
            for member in self.redis.zrangebyscore(key, "-inf", cutoff):
                if not self.redis.exists(q.job_key(member.decode())):
                    removed += self.redis.zrem(key, member)
        return removed


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


def _encode(name: str, value: Any) -> str:
    if name in _JSON_FIELDS:
        return json.dumps(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def decode_record(raw: dict[bytes, bytes]) -> dict[str, Any]:
    record: dict[str, Any] = {k.decode(): v.decode() for k, v in raw.items()}
    for name in _INT_FIELDS:
        if name in record:
            record[name] = int(record[name])
    for name in _FLOAT_FIELDS:
        if name in record:
            record[name] = float(record[name])
    for name in _JSON_FIELDS:
        if name in record:
            record[name] = json.loads(record[name])
    for name, value in list(record.items()):
        if name.startswith(("children_", "errors_")):
            record[name] = int(value)
    record.pop("score", None)
    return record
