"""The per-process scrape runtime: one asyncio loop, the extraction processes, the limiter.

Created at worker boot (after the fork) for processes that consume ``scrape``. Dramatiq worker
threads hand domains to the shared loop and wait, so a process keeps as many domains in flight
as it has worker threads, all sharing one rate limiter (in Redis, across every process).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from actors.scrape.crawl import DomainResult, ScrapeOptions, make_extractor, scrape_domain
from actors.scrape.pool import ProcessPool
from actors.scrape.ratelimit import RedisRateLimiter
from actors.scrape.transport import Resolver, static_resolver
from config.settings import Settings
from pools.errors import JobCancelled


def resolver_from(static_hosts: dict[str, str]) -> Resolver | None:
    """A fixed-answer resolver for ``static_hosts`` names, the system resolver for others."""
    if not static_hosts:
        return None
    from actors.scrape.transport import system_resolver

    table = {}
    for host, target in static_hosts.items():
        ip, _, port = target.rpartition(":")
        table[host.lower()] = [(ip.strip("[]"), int(port))]
    fixed = static_resolver(table)

    async def resolve(host: str, port: int) -> list[tuple[str, int]]:
        if host.lower() in table:
            return await fixed(host, port)
        return await system_resolver(host, port)

    return resolve


IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


async def _fetch_images(urls: list[str], options: ScrapeOptions, max_bytes: int,
                        limiter: RedisRateLimiter, resolver: Resolver | None
                        ) -> list[tuple[str, bytes]]:
    from actors.scrape.crawl import build_client
    from actors.scrape.domains import registrable_domain
    from actors.scrape.fetch import fetch
    from actors.scrape.outcomes import ScrapeError

    limits = options.limits.model_copy(update={"max_bytes": max_bytes})
    out: list[tuple[str, bytes]] = []
    async with build_client(options, resolver) as client:
        for url in urls:
            host = httpx.URL(url).host
            await limiter.acquire(registrable_domain(host), options.per_domain_delay_s)
            try:
                got = await fetch(client, url, limits, accept=IMAGE_TYPES)
            except ScrapeError:
                continue
            if got.status == 200 and got.accepted and got.body:
                out.append((url, got.body))
    return out


class ScrapeRuntime:
    def __init__(self, settings: Settings) -> None:
        import redis.asyncio as aioredis

        from pools.broker import redis_url

        self.settings = settings.scrape
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="scrape-loop",
                                       daemon=True)
        self.thread.start()
        self.pool = ProcessPool(size=self.settings.extract_workers)
        self.call(self.pool.start())
        self.limiter = RedisRateLimiter(aioredis.from_url(redis_url(settings)))
        self.resolver = resolver_from(self.settings.static_hosts)

    def call(self, coro: Coroutine[Any, Any, Any],
             cancelled: Callable[[], bool] | None = None) -> Any:
        """Run ``coro`` on the loop and wait; cancel it if ``cancelled()`` turns true."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        while True:
            try:
                return future.result(timeout=0.5)
            except concurrent.futures.TimeoutError:
                if cancelled is not None and cancelled():
                    future.cancel()
                    raise JobCancelled("scrape cancelled on request") from None
            except BaseException:
                future.cancel()  # e.g. the time limit interrupting this thread
                raise

    def scrape(self, domain: str, max_pages: int,
               cancelled: Callable[[], bool] | None = None) -> DomainResult:
        options = ScrapeOptions.from_settings(self.settings, max_pages=max_pages)
        extractor = make_extractor(self.pool, options.extract_timeout_s)
        return self.call(scrape_domain(domain, options, limiter=self.limiter,
                                       extractor=extractor, resolver=self.resolver), cancelled)

    def fetch_images(self, urls: list[str], max_bytes: int) -> list[tuple[str, bytes]]:
        """Fetch image URLs politely through the guarded client; failures are skipped."""
        options = ScrapeOptions.from_settings(self.settings)
        return self.call(_fetch_images(urls, options, max_bytes, self.limiter, self.resolver))

    def close(self) -> None:
        try:
            self.call(self.pool.close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
