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

QUEUED, RUNNING, RETRYING = "queued", "running", "retrying"
SUCCEEDED, FAILED, DEAD, CANCELLED = "succeeded", "failed", "dead", "cancelled"
STATUSES = (QUEUED, RUNNING, RETRYING, SUCCEEDED, FAILED, DEAD, CANCELLED)
TERMINAL = frozenset({SUCCEEDED, FAILED, DEAD, CANCELLED})
ACTIVE = (QUEUED, RUNNING, RETRYING)

_TRANSITION_LUA = """
local key, prefix = KEYS[1], ARGV[1]
local new, allowed, now = ARGV[2], ARGV[3], ARGV[4]
local old = redis.call('hget', key, 'status')
if not old then return {-1, ''} end
if allowed ~= '' then
  local ok = false
  for s in string.gmatch(allowed, '[^,]+') do if s == old then ok = true end end
  if not ok then return {0, old} end
end
for i = 5, #ARGV, 2 do
  if ARGV[i + 1] == '\\0' then redis.call('hdel', key, ARGV[i])
  else redis.call('hset', key, ARGV[i], ARGV[i + 1]) end
end
redis.call('hset', key, 'status', new, 'updated_at', now)
if old == new then return {1, old} end
local id = redis.call('hget', key, 'id')
local kind = redis.call('hget', key, 'kind')
local score = redis.call('hget', key, 'score')
redis.call('zrem', prefix .. ':jobs:status:' .. old, id)
redis.call('zrem', prefix .. ':jobs:kind:' .. kind .. ':status:' .. old, id)
redis.call('zadd', prefix .. ':jobs:status:' .. new, score, id)
redis.call('zadd', prefix .. ':jobs:kind:' .. kind .. ':status:' .. new, score, id)
local terminal = {succeeded = true, failed = true, dead = true, cancelled = true}
local parent = redis.call('hget', key, 'parent_id')
if parent and parent ~= '' then
  local pkey = prefix .. ':job:' .. parent
  local etype = redis.call('hget', key, 'error_type')
  if terminal[old] then
    redis.call('hincrby', pkey, 'children_' .. old, -1)
    redis.call('hincrby', pkey, 'children_done', -1)
  end
  if terminal[new] then
    redis.call('hincrby', pkey, 'children_' .. new, 1)
    redis.call('hincrby', pkey, 'children_done', 1)
    if etype and etype ~= '' and new ~= 'succeeded' then
      redis.call('hincrby', pkey, 'errors_' .. etype, 1)
    end
  end
end
return {1, old}
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
    def create(
        self,
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
    ) -> dict[str, Any]:
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
        pipe = self.redis.pipeline(transaction=True)
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
        pipe.execute()
        return self.get(job_id) or {}

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
    def transition(
        self, job_id: str, status: str, *, allowed_from: Iterable[str] | None = None,
        **fields: Any,
    ) -> tuple[bool, str | None]:
        """Move a job to ``status`` if its current status is in ``allowed_from``.

        Returns ``(applied, previous_status)``; ``previous_status`` is None for an unknown job.
        A field given as ``None`` is removed from the record.
        """
        argv: list[str] = [q.PREFIX, status, ",".join(allowed_from or ()), repr(time.time())]
        for name, value in fields.items():
            argv += [name, "\0" if value is None else _encode(name, value)]
        applied, old = self._transition(keys=[q.job_key(job_id)], args=argv)
        previous = (old.decode() if isinstance(old, bytes) else old) or None
        if applied == 1 and status in TERMINAL:
            self.redis.expire(q.job_key(job_id), self.record_ttl_s)
        elif applied == 1:
            self.redis.persist(q.job_key(job_id))
        return applied == 1, previous

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

    def count_attempt(self, job_id: str) -> None:
        self.redis.hincrby(q.job_key(job_id), "attempts", 1)

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
