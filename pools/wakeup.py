"""Wake idle consumers when work arrives, instead of waiting for their next poll.

Dramatiq's Redis consumer polls an empty queue with a growing pause (up to the worker timeout,
1 s on the cpu pool), so a job sent to a worker idle for a second waits about half a second.
Every enqueue here also publishes the queue's name on ``repertory:wake:<queue>`` (in the same
script, no extra round trip); each worker process runs one subscriber thread that sets a
per-queue event, and an idle consumer waits on that event instead of sleeping. The poll stays
as the fallback: a missed wake-up (the subscriber reconnecting after a Redis restart) costs one
poll interval, never a job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import redis

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "repertory:wake:"


def channel(queue_name: str) -> str:
    return CHANNEL_PREFIX + queue_name


class Wakeups:
    """One subscriber per process; ``wait(queue, timeout_s)`` returns early on a wake-up."""

    def __init__(self, client_factory: Callable[[], redis.Redis]) -> None:
        self._client_factory = client_factory
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def _event(self, queue_name: str) -> threading.Event:
        with self._lock:
            if queue_name not in self._events:
                self._events[queue_name] = threading.Event()
            if self._thread is None:
                self._thread = threading.Thread(target=self._listen, name="repertory-wakeups",
                                                daemon=True)
                self._thread.start()
            return self._events[queue_name]

    def wait(self, queue_name: str, timeout_s: float) -> bool:
        event = self._event(queue_name)
        woken = event.wait(timeout_s)
        event.clear()
        return woken

    def poke(self, queue_name: str) -> None:
        """Wake this process's consumer of ``queue_name`` (no Redis involved)."""
        event = self._events.get(queue_name)
        if event is not None:
            event.set()

    def close(self) -> None:
        self._stop.set()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                pubsub = self._client_factory().pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(CHANNEL_PREFIX + "*")
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._wake(message["channel"])
            except redis.RedisError as exc:
                log.debug("wake-up subscriber lost Redis (%s); consumers poll meanwhile", exc)
                self._stop.wait(1.0)

    def _wake(self, raw: bytes | str) -> None:
        name = (raw.decode() if isinstance(raw, bytes) else raw).removeprefix(CHANNEL_PREFIX)
        event = self._events.get(name)
        if event is not None:
            event.set()
