"""The scrape entry points: one domain (``scrape_domain``) and many at once (``scrape_many``).

Per domain: robots.txt, then the home page, then up to ``max_pages - 1`` contact / about /
imprint / legal pages, strictly one request at a time, each after a slot from the shared rate
limiter. Many domains run concurrently in one event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import httpx
from pydantic import BaseModel, Field

from actors.scrape.domains import registrable_domain
from actors.scrape.extract import PageData, PageError, extract_page
from actors.scrape.fetch import HTML_TYPES, FetchLimits, FetchResult, fetch
from actors.scrape.merge import CompanyRecord, merge_pages
from actors.scrape.outcomes import Outcome, ScrapeError
from actors.scrape.pages import choose_pages
from actors.scrape.pool import ProcessPool
from actors.scrape.ratelimit import LocalRateLimiter, RateLimiter
from actors.scrape.robots import RobotsPolicy, fetch_robots
from actors.scrape.transport import GuardedTransport, Resolver
from config.scrape import ScrapeSettings


class ScrapeOptions(BaseModel):
    """Everything one scrape needs; build with ``ScrapeOptions.from_settings(settings.scrape)``."""

    user_agent: str = ScrapeSettings().user_agent
    robots_agent: str = ScrapeSettings().robots_agent
    schemes: tuple[str, ...] = ("https", "http")
    limits: FetchLimits = Field(default_factory=FetchLimits)
    robots_max_bytes: int = 512_000
    max_pages: int = 5
    per_domain_delay_s: float = 1.0
    crawl_delay_cap_s: float = 10.0
    domain_deadline_s: float = 180.0
    extract_timeout_s: float = 10.0
    concurrency: int = 64
    allow_loopback: bool = False

    @classmethod
    def from_settings(cls, s: ScrapeSettings, **overrides: object) -> ScrapeOptions:
        limits = FetchLimits(connect_s=s.connect_timeout_s, read_s=s.read_timeout_s,
                             write_s=s.write_timeout_s, pool_s=s.pool_timeout_s,
                             deadline_s=s.fetch_deadline_s, max_bytes=s.max_bytes,
                             max_redirects=s.max_redirects)
        values = dict(user_agent=s.user_agent, robots_agent=s.robots_agent, schemes=s.schemes,
                      limits=limits, robots_max_bytes=s.robots_max_bytes,
                      max_pages=s.max_pages_per_domain, per_domain_delay_s=s.per_domain_delay_s,
                      crawl_delay_cap_s=s.crawl_delay_cap_s, domain_deadline_s=s.domain_deadline_s,
                      extract_timeout_s=s.extract_timeout_s, concurrency=s.concurrency,
                      allow_loopback=s.allow_loopback)
        return cls(**(values | overrides))


log = logging.getLogger(__name__)


class PageFetch(BaseModel):
    url: str
    outcome: Outcome
    status: int | None = None
    error: str | None = None
    #: Extraction stages that failed on this page (the page's other fields were kept).
    extract_errors: list[PageError] = Field(default_factory=list)


class DomainResult(BaseModel):
    domain: str
    outcome: Outcome
    pages: list[PageFetch] = Field(default_factory=list)
    record: CompanyRecord | None = None
    error: str | None = None
    robots: str = ""
    elapsed_s: float = 0.0

    @property
    def pages_fetched(self) -> int:
        return sum(1 for p in self.pages if p.status is not None)


Extractor = Callable[[str, str], Awaitable[PageData]]


def make_extractor(pool: ProcessPool | None, timeout_s: float) -> Extractor:
    """Extraction in ``pool`` under a hard limit; without a pool, in a thread (no hard limit)."""

    async def run(html: str, url: str) -> PageData:
        if pool is None:
            return await asyncio.to_thread(extract_page, html, url)
        return await pool.run(extract_page, html, url, timeout_s=timeout_s)

    return run


def build_client(options: ScrapeOptions, resolver: Resolver | None = None) -> httpx.AsyncClient:
    transport = GuardedTransport(resolver=resolver, allow_loopback=options.allow_loopback)
    return httpx.AsyncClient(
        transport=transport, trust_env=False, follow_redirects=False,
        timeout=options.limits.timeout(),
        headers={"User-Agent": options.user_agent, "Accept-Encoding": "gzip, deflate",
                 "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"},
    )


class _DomainRun:
    """State of one domain's scrape (the client, politeness, what was fetched)."""

    def __init__(self, domain: str, options: ScrapeOptions, client: httpx.AsyncClient,
                 limiter: RateLimiter, extractor: Extractor) -> None:
        self.domain, self.options, self.client = domain, options, client
        self.limiter, self.extractor = limiter, extractor
        self.rate_key = registrable_domain(domain)
        self.interval = options.per_domain_delay_s
        self.pages: list[PageFetch] = []
        self.data: list[PageData] = []

    async def _get(self, url: str, *, accept: tuple[str, ...] | None = HTML_TYPES,
                   limits: FetchLimits | None = None) -> FetchResult:
        await self.limiter.acquire(self.rate_key, self.interval)
        return await fetch(self.client, url, limits or self.options.limits, accept=accept)

    async def robots(self) -> tuple[str, RobotsPolicy]:
        limits = self.options.limits.model_copy(update={"max_bytes": self.options.robots_max_bytes})
        policy: RobotsPolicy | None = None
        for scheme in self.options.schemes:
            origin = f"{scheme}://{self.domain}"
            await self.limiter.acquire(self.rate_key, self.interval)
            policy = await fetch_robots(self.client, origin, limits)
            if policy.answered:
                return origin, policy
        assert policy is not None
        return origin, policy

    async def page(self, url: str) -> PageData | None:
        """Fetch and extract one page; failures are recorded, then re-raised for the home page."""
        try:
            result = await self._get(url)
        except ScrapeError as exc:
            self.pages.append(PageFetch(url=url, outcome=exc.outcome, error=exc.message))
            raise
        fetched = PageFetch(url=result.url, outcome=Outcome.OK, status=result.status)
        self.pages.append(fetched)
        if result.status in (401, 403, 451):
            fetched.outcome, fetched.error = Outcome.BLOCKED, f"HTTP {result.status}"
        elif result.status == 429 or result.status >= 500:
            fetched.outcome, fetched.error = Outcome.UNREACHABLE, f"HTTP {result.status}"
        elif result.status >= 400:
            fetched.error = f"HTTP {result.status}"
            return None
        elif not result.accepted or result.text is None:
            fetched.error = f"not HTML ({result.content_type})"
            return None
        if fetched.outcome is not Outcome.OK:
            raise ScrapeError(fetched.outcome, f"{url}: {fetched.error}")
        data = await self._extract(fetched, result.text, result.url)
        self.data.append(data)
        return data

    async def _extract(self, fetched: PageFetch, html: str, url: str) -> PageData:
        """Extract one page; a failure is typed and recorded on it, then raised for the caller
        (the home page's failure ends the domain, a sub-page's only that page)."""
        try:
            data = await self.extractor(html, url)
        except ScrapeError as exc:  # the extraction process was killed at its time limit
            fetched.outcome, fetched.error = exc.outcome, exc.message
            raise
        except Exception as exc:  # noqa: BLE001 - any crash is this page's, typed
            fetched.outcome = Outcome.EXTRACT_FAILED
            fetched.error = f"{type(exc).__name__}: {exc}"[:300]
            raise ScrapeError(Outcome.EXTRACT_FAILED, f"{url}: {fetched.error}") from exc
        fetched.extract_errors = data.errors
        return data


async def _crawl(run: _DomainRun) -> DomainResult:
    origin, policy = await run.robots()
    robots = f"{policy.status} {policy.detail}".strip()
    if policy.outcome is not None:
        return DomainResult(domain=run.domain, outcome=policy.outcome, error=policy.detail,
                            robots=robots)
    agent = run.options.robots_agent
    delay = policy.crawl_delay(agent, run.options.crawl_delay_cap_s)
    if delay > run.interval:  # robots.txt itself was spaced by the default interval only
        await asyncio.sleep(delay - run.interval)
        run.interval = delay
    home_url = origin + "/"
    if not policy.can_fetch(home_url, agent):
        return DomainResult(domain=run.domain, outcome=Outcome.BLOCKED, robots=robots,
                            error="robots.txt disallows the home page")
    home = await run.page(home_url)
    candidates = choose_pages(home.url, home.links, run.options.max_pages) if home else []
    for url in candidates:
        if not policy.can_fetch(url, agent):
            run.pages.append(PageFetch(url=url, outcome=Outcome.BLOCKED, error="robots.txt"))
            continue
        try:
            await run.page(url)
        except ScrapeError:
            continue  # recorded; a missing sub-page does not fail the domain
    return DomainResult(domain=run.domain, outcome=Outcome.OK, robots=robots)


async def scrape_domain(domain: str, options: ScrapeOptions, *,
                        limiter: RateLimiter | None = None,
                        extractor: Extractor | None = None,
                        resolver: Resolver | None = None) -> DomainResult:
    """Scrape one (normalised) domain. Never raises for network outcomes: see ``outcome``."""
    started = time.monotonic()
    extractor = extractor or make_extractor(None, options.extract_timeout_s)
    async with build_client(options, resolver) as client:
        run = _DomainRun(domain, options, client, limiter or LocalRateLimiter(), extractor)
        try:
            async with asyncio.timeout(options.domain_deadline_s):
                result = await _crawl(run)
        except ScrapeError as exc:
            result = DomainResult(domain=domain, outcome=exc.outcome, error=exc.message)
        except TimeoutError:
            outcome = Outcome.OK if run.data else Outcome.TIMEOUT
            result = DomainResult(domain=domain, outcome=outcome,
                                  error=f"domain deadline {options.domain_deadline_s}s passed")
        except Exception as exc:  # noqa: BLE001 - a bug stays with this domain
            log.exception("scrape of %s failed unexpectedly", domain)
            result = DomainResult(domain=domain, outcome=Outcome.ERROR,
                                  error=f"{type(exc).__name__}: {exc}"[:300])
    result.pages = run.pages
    if run.data:
        try:
            result.record = merge_pages(domain, run.data)
        except Exception as exc:  # noqa: BLE001 - typed on the result, not raised
            log.exception("merging the pages of %s failed", domain)
            result.outcome, result.error = Outcome.ERROR, f"{type(exc).__name__}: {exc}"[:300]
    result.elapsed_s = round(time.monotonic() - started, 3)
    return result


async def scrape_many(domains: list[str], options: ScrapeOptions, *,
                      limiter: RateLimiter | None = None,
                      extractor: Extractor | None = None,
                      resolver: Resolver | None = None,
                      on_result: Callable[[DomainResult], Awaitable[None] | None] | None = None,
                      ) -> list[DomainResult]:
    """Scrape many domains, ``options.concurrency`` at a time; results in input order.

    Each domain is on its own: whatever fails in one (even ``on_result``) becomes that
    domain's ``error`` result and never touches another's."""
    gate = asyncio.Semaphore(options.concurrency)
    limiter = limiter or LocalRateLimiter()

    async def one(domain: str) -> DomainResult:
        async with gate:
            result = await scrape_domain(domain, options, limiter=limiter,
                                         extractor=extractor, resolver=resolver)
        if on_result is not None:
            try:
                if (pending := on_result(result)) is not None:
                    await pending
            except Exception:  # noqa: BLE001 - the callback's failure is logged, not spread
                log.exception("on_result failed for %s", domain)
        return result

    gathered = await asyncio.gather(*(one(d) for d in domains), return_exceptions=True)
    return [r if isinstance(r, DomainResult) else _failed(d, r)
            for d, r in zip(domains, gathered, strict=True)]


def _failed(domain: str, exc: BaseException) -> DomainResult:
    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
        raise exc
    return DomainResult(domain=domain, outcome=Outcome.ERROR,
                        error=f"{type(exc).__name__}: {exc}"[:300])
