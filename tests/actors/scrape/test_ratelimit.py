"""The per-registrable-domain rate limit is shared through Redis by separate clients."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis

from actors.scrape.ratelimit import LocalRateLimiter, RedisRateLimiter


def test_two_clients_sharing_redis_space_requests_to_one_domain(redis_url: str) -> None:
    interval = 0.2

    async def go() -> tuple[list[float], list[float]]:
        a, b = aioredis.from_url(redis_url), aioredis.from_url(redis_url)
        await a.flushdb()
        limiters = [RedisRateLimiter(a), RedisRateLimiter(b)]
        stamps: list[float] = []
        other: list[float] = []

        async def hit(limiter: RedisRateLimiter, domain: str, out: list[float]) -> None:
            await limiter.acquire(domain, interval)
            out.append(time.monotonic())

        await asyncio.gather(
            *(hit(limiters[i % 2], "acme-widgets.com", stamps) for i in range(6)),
            *(hit(limiters[i % 2], "other-company.com", other) for i in range(2)),
        )
        await a.aclose()
        await b.aclose()
        return sorted(stamps), sorted(other)

    stamps, other = asyncio.run(go())
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert len(stamps) == 6
    assert min(gaps) >= interval - 0.03  # Redis' clock is in ms; allow scheduling jitter
    assert stamps[-1] - stamps[0] >= 5 * interval - 0.05
    assert other[1] - other[0] >= interval - 0.03
    assert other[0] - stamps[0] < interval  # another domain is not held back


def test_the_local_limiter_spaces_requests_in_one_process() -> None:
    async def go() -> list[float]:
        limiter, stamps = LocalRateLimiter(), []
        for _ in range(3):
            await limiter.acquire("acme-widgets.com", 0.1)
            stamps.append(time.monotonic())
        return stamps

    stamps = asyncio.run(go())
    assert stamps[2] - stamps[0] >= 0.19
