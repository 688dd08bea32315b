"""Queue inspection and dead letters for the Redis broker.

Reads the broker's own keys (``<ns>:<queue>`` list of ready ids, ``.msgs`` hash of bodies,
``.DQ`` delay queue, ``.XQ`` dead letters) so the API can show depths and requeue dead work.
Engine-specific by nature: a RabbitMQ engine would get its own class with the same methods.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis
from dramatiq import Message

from config.queues import ALL_QUEUES

_MESSAGE_FIELDS = ("queue_name", "actor_name", "args", "kwargs", "options", "message_id",
                   "message_timestamp")


class QueueAdmin:
    def __init__(self, client: redis.Redis, namespace: str = "dramatiq",
                 queues: tuple[str, ...] = ALL_QUEUES) -> None:
        self.redis = client
        self.ns = namespace
        self.queues = queues

    def _key(self, queue: str, suffix: str = "") -> str:
        return f"{self.ns}:{queue}{suffix}"

    def stats(self, queue: str) -> dict[str, Any]:
        pipe = self.redis.pipeline(transaction=False)
        pipe.llen(self._key(queue))
        pipe.hlen(self._key(queue, ".msgs"))
        pipe.hlen(self._key(queue, ".DQ.msgs"))
        pipe.zcard(self._key(queue, ".XQ"))
        ready, bodies, delayed, dead = pipe.execute()
        return {"queue": queue, "ready": ready, "delayed": delayed,
                "in_flight": max(0, bodies - ready), "dead": dead}

    def all_stats(self) -> list[dict[str, Any]]:
        return [self.stats(queue) for queue in self.queues]

    def _dead_entries(self, queue: str, limit: int | None = None
                      ) -> list[tuple[str, float, dict[str, Any]]]:
        """``(redis id, dead-at ms, message dict)``, newest first.

        The broker keys dead letters by a per-enqueue id, not the message (job) id, so the
        body is read to find the job.
        """
        stop = -1 if limit is None else limit - 1
        rows = self.redis.zrevrange(self._key(queue, ".XQ"), 0, stop, withscores=True)
        if not rows:
            return []
        bodies = self.redis.hmget(self._key(queue, ".XQ.msgs"), [r for r, _ in rows])
        return [(rid.decode(), score, json.loads(body))
                for (rid, score), body in zip(rows, bodies, strict=True) if body is not None]

    def dead(self, queue: str, limit: int = 100) -> list[dict[str, Any]]:
        out = []
        for _, score, data in self._dead_entries(queue, limit):
            options = data.get("options", {})
            out.append({
                "message_id": data["message_id"], "job_id": data["message_id"],
                "actor": data.get("actor_name"), "queue": queue, "dead_at": score / 1000.0,
                "retries": options.get("retries", 0), "traceback": options.get("traceback"),
            })
        return out

    def take_dead(self, queue: str, message_ids: list[str] | None) -> list[Message]:
        """Remove dead letters (all when ``message_ids`` is None) and return their messages."""
        xq, msgs = self._key(queue, ".XQ"), self._key(queue, ".XQ.msgs")
        wanted = None if message_ids is None else set(message_ids)
        taken = []
        for rid, _, data in self._dead_entries(queue):
            if wanted is not None and data["message_id"] not in wanted:
                continue
            pipe = self.redis.pipeline(transaction=True)
            pipe.zrem(xq, rid)
            pipe.hdel(msgs, rid)
            removed, _ = pipe.execute()
            if removed:
                taken.append(message_of(data))
        return taken

    def is_dead(self, queue: str, message_id: str) -> bool:
        return any(d["message_id"] == message_id for _, _, d in self._dead_entries(queue))


def message_of(data: dict[str, Any]) -> Message:
    """A Dramatiq message from its stored dict (a dead letter, or the copy on a job record)."""
    return Message(**{k: data[k] for k in _MESSAGE_FIELDS if k in data})


def fresh_message(message: Message, *, reset_retries: bool = True) -> Message:
    """A copy of ``message`` for its canonical queue, without broker ids, eta or traceback;
    with its retry count reset unless ``reset_retries`` is False."""
    dropped = {"traceback", "requeue_timestamp", "eta", "redis_message_id"}
    if reset_retries:
        dropped.add("retries")
    options = {k: v for k, v in message.options.items() if k not in dropped}
    return Message(queue_name=message.queue_name.removesuffix(".DQ"),
                   actor_name=message.actor_name, args=message.args, kwargs=message.kwargs,
                   options=options, message_id=message.message_id,
                   message_timestamp=int(time.time() * 1000))
