"""Deferred outcomes: an actor that starts work on an event loop and frees its thread at once.

A Dramatiq worker thread runs one message at a time, so a process with 8 threads waiting on 8
slow HTTP calls is full. An actor may instead ``return defer(future)``: the thread goes back to
take the next message while the message stays *unacknowledged* (its broker lease, the Recovery
middleware's running set and the consumer's prefetch count all keep holding it), and when the
future finishes its outcome goes through the very same "after" hooks (result, retries, job
state) and the ack, as if the actor had returned or raised it then.

How it plugs in (``pools.redis_broker`` calls the three functions below):

* ``hooks_now`` — when the worker thread emits ``after_process_message`` with a ``Deferred``
  result, only the hooks bound to that thread run now (time limit, shutdown notification,
  current message, log context: they clean up the thread's own state); the others wait.
* ``hold`` — the consumer's ack of a parked message does nothing but remember the consumer
  (the ack's own hooks are skipped too: the message is still held).
* When the future is done, a small completion pool runs the remaining hooks, then acks or
  nacks through that consumer (with the job's move, through the committer). Whichever of the
  two — the worker thread's ack or the future's end — comes second does the ack.

A future cancelled (the runtime closing at shutdown past its grace) leaves the message
unacked: the Recovery middleware puts it back on its queue, like any message still running.
The number of messages a process holds parked is bounded by its consumer's prefetch
(``prefetch_for``): that, not the thread count, is the concurrency of a deferred queue.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

#: Middleware whose after hooks act on the worker thread itself (by thread id or context
#: variable): they run on that thread when the message is parked, never later elsewhere.
THREAD_BOUND = frozenset({"TimeLimit", "ShutdownNotifications", "CurrentMessage",
                          "JobLogContext"})

_prefetch: dict[str, int] = {}
_completions: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


@dataclass(frozen=True)
class Deferred:
    """What an actor returns when its outcome is the result (or exception) of ``future``."""

    future: concurrent.futures.Future


def defer(future: concurrent.futures.Future) -> Deferred:
    return Deferred(future)


@dataclass
class _Parked:
    deferred: Deferred
    lock: threading.Lock = field(default_factory=threading.Lock)
    consumer: Any = None
    finished: bool = False  # the outcome hooks ran
    settled: bool = False  # acked or nacked


def set_prefetch(queue_name: str, prefetch: int) -> None:
    """Hold up to ``prefetch`` messages of ``queue_name`` per process (running or parked)."""
    _prefetch[queue_name] = prefetch


def prefetch_for(queue_name: str, default: int) -> int:
    return max(default, _prefetch.get(queue_name, 0))


def _thread_bound(middleware: Any) -> bool:
    return (type(middleware).__name__ in THREAD_BOUND
            or bool(getattr(middleware, "thread_bound", False)))


def is_parked(message: Any) -> bool:
    parked = getattr(message, "_repertory_parked", None)
    return parked is not None and not parked.settled


def hooks_now(broker: Any, signal: str, message: Any, kwargs: dict[str, Any],
              hooks: list[tuple[Any, Callable[..., Any]]]) -> list[tuple[Any, Any]]:
    """The hooks of ``signal`` to run now: all of them, unless the message is parked."""
    if signal == "process_message":
        if not isinstance(kwargs.get("result"), Deferred):
            return hooks  # the common case: no copy, no cost
        parked = _Parked(kwargs["result"])
        message._repertory_parked = parked
        parked.deferred.future.add_done_callback(
            lambda _f: _executor().submit(_finish, broker, message, parked))
        return [(m, h) for m, h in hooks if _thread_bound(m)]
    return [] if is_parked(message) else hooks


def hold(message: Any, consumer: Any) -> bool:
    """Called by the consumer's ack/nack: True when the message is parked (do not settle it
    now). The worker thread is done with it; settle here if the outcome is already in."""
    parked = getattr(message, "_repertory_parked", None)
    if parked is None or parked.settled:
        return False
    with parked.lock:
        parked.consumer = consumer
        ready = parked.finished
    if ready:
        _settle(message, parked)
    return True


def _finish(broker: Any, message: Any, parked: _Parked) -> None:
    future = parked.deferred.future
    if future.cancelled():
        log.info("deferred message %s stopped unfinished; it will be put back",
                 message.message_id)
        return
    error = future.exception()
    kwargs: dict[str, Any] = {"exception": error} if error is not None else {
        "result": future.result()}
    if error is not None:
        message.stuff_exception(error)
    hooks = [(m, h) for m, h in broker._hooks_of("after_process_message",
                                                 reversed(broker.middleware))
             if not _thread_bound(m)]
    for middleware, hook in hooks:
        try:
            hook(broker, message, **kwargs)
        except Exception:
            log.critical("Unexpected failure in after_process_message of %r.", middleware,
                         exc_info=True)
    with parked.lock:
        parked.finished = True
        ready = parked.consumer is not None
    if ready:
        _settle(message, parked)


def _settle(message: Any, parked: _Parked) -> None:
    """Ack (or nack, when retries are spent) through the consumer that took the message."""
    with parked.lock:
        if parked.settled:
            return
        parked.settled = True
    consumer, broker = parked.consumer, parked.consumer.broker
    command = "nack" if message.failed else "ack"
    try:
        broker.emit_before(command, message)
        getattr(consumer, command)(message)
        broker.emit_after(command, message)
    except Exception:  # the broker's audit requeues what was never acknowledged
        log.exception("could not %s deferred message %s", command, message.message_id)
    finally:
        message.clear_exception()


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    global _completions
    with _pool_lock:
        if _completions is None:
            _completions = concurrent.futures.ThreadPoolExecutor(
                max_workers=4, thread_name_prefix="repertory-deferred")
        return _completions
