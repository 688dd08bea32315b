"""Per-registrable-domain request spacing, shared by every worker through Redis.

Each caller atomically reserves the next free slot for the domain (a Lua script reads Redis'
own clock, so worker clocks do not matter) and sleeps until it. Any number of processes and
machines sharing one Redis therefore space their requests to a domain by at least the interval.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

from config.queues import PREFIX

_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local interval = tonumber(ARGV[1])
local slot = math.max(now, nxt)
redis.call('SET', KEYS[1], slot + interval, 'PX', interval + 60000)
return slot - now
"""


class RateLimiter(Protocol):
    async def acquire(self, domain: str, interval_s: float) -> float:
        """Wait for the domain's next slot; returns the seconds waited."""
        ...


def rate_key(domain: str, prefix: str = PREFIX) -> str:
    return f"{prefix}:scrape:rate:{domain}"


class RedisRateLimiter:
    """Slots reserved in Redis; ``client`` is a ``redis.asyncio.Redis``."""

    def __init__(self, client: Any, *, prefix: str = PREFIX) -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_RESERVE)

    async def reserve(self, domain: str, interval_s: float) -> float:
        """Reserve a slot without waiting; seconds until it starts."""
        interval_ms = max(0, int(round(interval_s * 1000)))
        wait_ms = await self._script(keys=[rate_key(domain, self._prefix)], args=[interval_ms])
        return int(wait_ms) / 1000.0

    async def acquire(self, domain: str, interval_s: float) -> float:
        wait = await self.reserve(domain, interval_s)
        if wait > 0:
            await asyncio.sleep(wait)
        return wait


class LocalRateLimiter:
    """The same slot logic in one process (no Redis): for tools and single-process runs."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}

    async def acquire(self, domain: str, interval_s: float) -> float:
        now = time.monotonic()
        slot = max(now, self._next.get(domain, 0.0))
        self._next[domain] = slot + max(0.0, interval_s)
        wait = slot - now
        if wait > 0:
            await asyncio.sleep(wait)
        return wait
