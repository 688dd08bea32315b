"""Dramatiq's Redis broker, extended (not forked) where the job path pays for it.

* ``enqueue`` runs one script that stores the message, pushes its id and publishes a wake-up
  for the queue (``pools.wakeup``): the same one round trip as Dramatiq's, and an idle
  consumer starts the job in milliseconds instead of at its next poll.
* The consumer waits on that wake-up instead of sleeping between empty polls, and hands acks
  and nacks to the process's ``Committer`` (``pools.committer``) when there is one, so a
  finished job's state move and its ack travel together, many jobs per round trip.
* An actor may return ``pools.deferred.defer(future)``: its message stays held, unacked,
  until the future is done, and its thread is free meanwhile (``pools.deferred``).

Keys, message format and every other command are Dramatiq's own: plain ``dramatiq`` workers,
``QueueAdmin`` and Dramatiq's maintenance all keep working on the same queues.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import redis
from dramatiq import Message
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff, current_millis, dq_name
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import Middleware, MiddlewareError

from pools import deferred
from pools.committer import Item
from pools.wakeup import CHANNEL_PREFIX, Wakeups

#: Dramatiq's "enqueue" (store the body, push the id) plus a wake-up, in one step.
ENQUEUE_LUA = """
redis.call('hset', KEYS[1] .. ':' .. ARGV[1] .. '.msgs', ARGV[2], ARGV[3])
redis.call('rpush', KEYS[1] .. ':' .. ARGV[1], ARGV[2])
redis.call('publish', ARGV[4] .. ARGV[1], '')
"""


class RepertoryBroker(RedisBroker):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.committer: Any = None  # set in worker processes by the job-state middleware
        self.wakeups = Wakeups(lambda: self.client)
        self._enqueue = self.client.register_script(ENQUEUE_LUA)

    @property
    def consumer_class(self) -> type:
        return _Consumer

    # -- middleware hooks: only those a middleware defines -------------------------------
    # Dramatiq calls every hook of every middleware for every message (most are the base
    # class's no-ops); with fifteen middleware that is a noticeable part of a no-op job.
    # Same order and the same error handling as ``Broker.emit_before``/``emit_after``.
    def add_middleware(self, middleware: Middleware, **kwargs: Any) -> None:
        super().add_middleware(middleware, **kwargs)
        self._hooks = {}

    def _hooks_of(self, name: str, ordered: Any) -> list[tuple[Middleware, Any]]:
        hooks = self.__dict__.setdefault("_hooks", {})
        if name not in hooks:
            base = getattr(Middleware, name, None)
            hooks[name] = [(m, getattr(m, name)) for m in ordered
                           if getattr(type(m), name, None) is not base]
        return hooks[name]

    def emit_before(self, signal: str, *args: Any, **kwargs: Any) -> None:
        name = "before_" + signal
        hooks = self._hooks_of(name, self.middleware)
        if args and signal in ("ack", "nack"):
            hooks = deferred.hooks_now(self, signal, args[0], kwargs, hooks)
        for middleware, hook in hooks:
            try:
                hook(self, *args, **kwargs)
            except MiddlewareError:
                raise
            except Exception:
                self.logger.critical("Unexpected failure in %s of %r.", name, middleware,
                                     exc_info=True)

    def emit_after(self, signal: str, *args: Any, **kwargs: Any) -> None:
        name = "after_" + signal
        hooks = self._hooks_of(name, reversed(self.middleware))
        if args and signal in ("process_message", "ack", "nack"):
            hooks = deferred.hooks_now(self, signal, args[0], kwargs, hooks)
        for middleware, hook in hooks:
            try:
                hook(self, *args, **kwargs)
            except Exception:
                self.logger.critical("Unexpected failure in %s of %r.", name, middleware,
                                     exc_info=True)

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Any:
        return super().consume(queue_name, deferred.prefetch_for(queue_name, prefetch), timeout)

    def prepare(self, message: Message, delay: int | None) -> tuple[str, Message]:
        """``RedisBroker.enqueue``'s message: a fresh broker id; the delay queue and an eta
        for a delayed one."""
        queue_name = message.queue_name
        message = message.copy(options={"redis_message_id": str(uuid4())})
        if delay is not None:
            queue_name = dq_name(queue_name)
            message = message.copy(queue_name=queue_name,
                                   options={"eta": current_millis() + delay})
        return queue_name, message

    def enqueue(self, message: Message, *, delay: int | None = None) -> Message:
        queue_name, message = self.prepare(message, delay)
        self.emit_before("enqueue", message, delay)
        self._enqueue(keys=[self.namespace], args=[
            queue_name, message.options["redis_message_id"], message.encode(), CHANNEL_PREFIX])
        self.emit_after("enqueue", message, delay)
        return message


class _Consumer(_RedisConsumer):
    """Dramatiq's Redis consumer, with wake-ups while idle and group-committed acks."""

    def ack(self, message: MessageProxy) -> None:
        self._settle(message, "ack", super().ack)

    def nack(self, message: MessageProxy) -> None:
        self._settle(message, "nack", super().nack)

    def _settle(self, message: MessageProxy, command: str, directly: Any) -> None:
        if deferred.hold(message, self):  # parked: settled when its future is done
            return
        committer = self.broker.committer
        move = getattr(message, "_repertory_move", None)
        result = getattr(message, "_repertory_result", None)
        item = Item(self.queue_name, message, command, move, result)
        if committer is not None and committer.add(item):
            self.queued_message_ids.discard(message.message_id)
            self.broker.wakeups.poke(self.queue_name)  # room to prefetch again
            return
        if committer is not None:  # closed: result, then move, then ack, one at a time
            if result is not None:
                committer.store_result(result)
            if move is not None:
                job_id, event, fields = move
                committer.move(job_id, event, **fields)
        directly(message)

    def __next__(self) -> MessageProxy | None:
        """Dramatiq's ``__next__``, waiting on a wake-up (new work, or room freed by an ack)
        instead of sleeping when there is nothing to take."""
        while self.message_cache:
            data = self.message_cache.pop(0)
            if data is None:
                continue
            self.misses = 0
            message = Message.decode(data)
            self.queued_message_ids.add(message.message_id)
            return MessageProxy(message)
        if self.outstanding_message_count < self.prefetch:
            try:
                self.message_cache = self.broker.do_fetch(
                    self.queue_name, self.prefetch - self.outstanding_message_count)
            except redis.ConnectionError as exc:
                raise ConnectionClosed(exc) from None
            if self.message_cache:
                return self.__next__()
        self.misses, backoff_ms = compute_backoff(self.misses, max_backoff=self.timeout)
        self.broker.wakeups.wait(self.queue_name, backoff_ms / 1000)
        return None
