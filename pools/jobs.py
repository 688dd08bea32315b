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

# One move of one record, checked against the lifecycle table, with its indexes, its TTL and
# its batch parent's counters and status in the same atomic step.
_TRANSITION_LUA = lc.lua_table() + r"""
local key, prefix, event, now, ttl = KEYS[1], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local move = EVENTS[event]
local old = redis.call('hget', key, 'status')
if not old then return {-1, '', ''} end
if not move.from[old] then return {0, old, ''} end
local new = move.to
local old_etype = redis.call('hget', key, 'error_type') or ''

local function reindex(k, from, to)
  if from == to then return end
  local id, kind = redis.call('hget', k, 'id'), redis.call('hget', k, 'kind')
  local score = redis.call('hget', k, 'score')
  redis.call('zrem', prefix .. ':jobs:status:' .. from, id)
  redis.call('zrem', prefix .. ':jobs:kind:' .. kind .. ':status:' .. from, id)
  redis.call('zadd', prefix .. ':jobs:status:' .. to, score, id)
  redis.call('zadd', prefix .. ':jobs:kind:' .. kind .. ':status:' .. to, score, id)
  if TERMINAL[to] then redis.call('expire', k, ttl) else redis.call('persist', k) end
end

for i = 5, #ARGV, 2 do
  if ARGV[i + 1] == '\0' then redis.call('hdel', key, ARGV[i])
  else redis.call('hset', key, ARGV[i], ARGV[i + 1]) end
end
redis.call('hset', key, 'status', new, 'updated_at', now)
if move.attempt then redis.call('hincrby', key, 'attempts', 1) end
reindex(key, old, new)

local parent = redis.call('hget', key, 'parent_id')
if not parent or parent == '' then return {1, old, ''} end
local pkey = prefix .. ':job:' .. parent
local pstatus = redis.call('hget', pkey, 'status')
if not pstatus then return {1, old, ''} end
local new_etype = redis.call('hget', key, 'error_type') or ''
if TERMINAL[old] and old ~= new then
  redis.call('hincrby', pkey, 'children_' .. old, -1)
  redis.call('hincrby', pkey, 'children_done', -1)
  if old ~= 'succeeded' and old_etype ~= '' then
    if redis.call('hincrby', pkey, 'errors_' .. old_etype, -1) <= 0 then
      redis.call('hdel', pkey, 'errors_' .. old_etype)
    end
  end
end
if TERMINAL[new] and old ~= new then
  redis.call('hincrby', pkey, 'children_' .. new, 1)
  redis.call('hincrby', pkey, 'children_done', 1)
  if new ~= 'succeeded' and new_etype ~= '' then
    redis.call('hincrby', pkey, 'errors_' .. new_etype, 1)
  end
end

local pevent = ''
local done = tonumber(redis.call('hget', pkey, 'children_done') or '0')
local total = tonumber(redis.call('hget', pkey, 'children_total') or '0')
if TERMINAL[new] and done >= total then
  local ok = tonumber(redis.call('hget', pkey, 'children_succeeded') or '0')
  if redis.call('hget', pkey, 'cancel_requested') == '1' then pevent = 'settle_cancelled'
  elseif ok > 0 then pevent = 'settle_ok' else pevent = 'settle_failed' end
elseif TERMINAL[old] and not TERMINAL[new] then pevent = 'reopen'
elseif new == 'running' then pevent = 'open' end
if pevent == '' or not EVENTS[pevent].from[pstatus] then return {1, old, ''} end
local pnew = EVENTS[pevent].to
redis.call('hset', pkey, 'status', pnew, 'updated_at', now)
if TERMINAL[pnew] then
  redis.call('hset', pkey, 'finished_at', now)
  if pnew == 'failed' then
    redis.call('hset', pkey, 'error_type', 'children', 'error_message', 'every child job failed')
  end
else
  redis.call('hdel', pkey, 'finished_at', 'error_type', 'error_message')
  if pevent == 'open' then redis.call('hset', pkey, 'started_at', now) end
end
reindex(pkey, pstatus, pnew)
return {1, old, pevent}
"""


_INT_FIELDS = ("attempts", "children_total", "children_done", "cancel_requested")
_FLOAT_FIELDS = ("created_at", "started_at", "finished_at", "updated_at", "eta")
_JSON_FIELDS = ("progress", "message", "summary")


def new_job_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


class JobStore:
    """Reads and writes job records. Thread-safe (redis-py pools its connections)."""

    def __init__(self, client: redis.Redis, *, record_ttl_s: int = 7 * 86_400) -> None:
        self.redis = client
        self.record_ttl_s = record_ttl_s
        self._transition = client.register_script(_TRANSITION_LUA)

    # -- create and read ------------------------------------------------------------------
    def create(self, job_id: str, **fields: Any) -> dict[str, Any]:
        """Write a new ``queued`` record (see ``create_in`` for the fields)."""
        pipe = self.redis.pipeline(transaction=True)
        self.create_in(pipe, job_id, **fields)
        pipe.execute()
        return self.get(job_id) or {}

    def create_in(
        self,
        pipe: Any,
        job_id: str,
        *,
        kind: str,
        queue: str,
        actor: str,
        message: dict[str, Any] | None = None,
        parent_id: str | None = None,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
        children_total: int = 0,
        eta: float | None = None,
        summary: dict[str, Any] | None = None,
    ) -> None:
        """Queue the commands that write a new record on ``pipe`` (a transaction), so the
        caller can enqueue its message in the same atomic step."""
        now = time.time()
        score = int(now * 1_000_000)
        fields: dict[str, Any] = {
            "id": job_id,
            "kind": kind,
            "queue": queue,
            "actor": actor,
            "status": QUEUED,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
            "score": score,
            "children_total": children_total,
            "children_done": 0,
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
        pipe.hset(q.job_key(job_id), mapping={k: str(v) for k, v in fields.items()})
        for index in (
            q.job_index_key(),
            q.job_index_key(kind=kind),
            q.job_index_key(status=QUEUED),
            q.job_index_key(kind=kind, status=QUEUED),
        ):
            pipe.zadd(index, {job_id: score})
        if parent_id:
            pipe.sadd(q.children_key(parent_id), job_id)

    def get(self, job_id: str) -> dict[str, Any] | None:
        raw = self.redis.hgetall(q.job_key(job_id))
        return decode_record(raw) if raw else None

    def get_many(self, job_ids: Iterable[str]) -> list[dict[str, Any]]:
        pipe = self.redis.pipeline(transaction=False)
        ids = list(job_ids)
        for job_id in ids:
            pipe.hgetall(q.job_key(job_id))
        return [decode_record(raw) for raw in pipe.execute() if raw]

    def children(self, job_id: str) -> list[str]:
        return sorted(m.decode() for m in self.redis.smembers(q.children_key(job_id)))

    def count_children(self, job_id: str) -> int:
        return int(self.redis.scard(q.children_key(job_id)))

    def list(
        self, *, kind: str | None = None, status: str | None = None, limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """Newest first. ``cursor`` is the opaque ``next_cursor`` of the previous page."""
        top: str | float = "+inf" if not cursor else f"({int(cursor)}"
        key = q.job_index_key(kind=kind, status=status)
        rows = self.redis.zrevrangebyscore(key, top, "-inf", start=0, num=limit + 1,
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
        if event not in lc.EVENTS:
            raise ValueError(f"unknown lifecycle event {event!r}")
        argv: list[str] = [q.PREFIX, event, repr(time.time()), str(self.record_ttl_s)]
        for name, value in fields.items():
            argv += [name, "\0" if value is None else _encode(name, value)]
        applied, old, parent_event = self._transition(keys=[q.job_key(job_id)], args=argv)
        previous = (old.decode() if isinstance(old, bytes) else old) or None
        if applied != 1:
            return False, previous
        if lc.EVENTS[event].target in TERMINAL:
            self._finished(job_id)
        parent_event = parent_event.decode() if isinstance(parent_event, bytes) else parent_event
        if parent_event and lc.EVENTS[parent_event].target in TERMINAL:
            record = self.get(job_id)
            if record and record.get("parent_id"):
                self._finished(record["parent_id"])
        return True, previous

    def _finished(self, job_id: str) -> None:
        record = self.get(job_id)
        if record is not None:
            lc.emit_finished(self, record)

    def exists(self, job_id: str) -> bool:
        return bool(self.redis.exists(q.job_key(job_id)))

    def delete(self, job_id: str) -> None:
        """Forget a job entirely: its record, its index entries and its place among its
        parent's children (all allowed even when the server is out of memory)."""
        record = self.get(job_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(q.job_key(job_id))
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
