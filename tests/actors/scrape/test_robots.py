"""robots.txt by RFC 9309: 5xx → disallow all, 4xx → allow all, rules and crawl-delay obeyed."""

from __future__ import annotations

import asyncio
import time

from scrape_sites import SiteServer

from actors.scrape.crawl import ScrapeOptions, scrape_domain
from actors.scrape.outcomes import Outcome
from actors.scrape.robots import parse_robots, policy_for_status
from actors.scrape.transport import Resolver


def test_robots_5xx_means_nothing_else_is_fetched(
    site: SiteServer, resolver: Resolver, options: ScrapeOptions
) -> None:
    result = asyncio.run(scrape_domain("robots-500.com", options, resolver=resolver))
    assert result.outcome is Outcome.UNREACHABLE
    assert site.paths("robots-500.com") == ["/robots.txt"]
    assert result.pages == [] and result.record is None


def test_robots_4xx_means_everything_is_allowed(
    site: SiteServer, resolver: Resolver, options: ScrapeOptions
) -> None:
    result = asyncio.run(scrape_domain("robots-404.com", options, resolver=resolver))
    assert result.outcome is Outcome.OK
    assert site.paths("robots-404.com") == ["/robots.txt", "/", "/contact"]
    assert [e.value for e in result.record.emails] == ["hello@robots-404.com"]


def test_robots_disallow_all_blocks_the_domain(
    site: SiteServer, resolver: Resolver, options: ScrapeOptions
) -> None:
    result = asyncio.run(scrape_domain("robots-deny.com", options, resolver=resolver))
    assert result.outcome is Outcome.BLOCKED
    assert site.paths("robots-deny.com") == ["/robots.txt"]


def test_crawl_delay_spaces_the_requests_of_a_domain(
    site: SiteServer, resolver: Resolver, options: ScrapeOptions
) -> None:
    started = time.monotonic()
    result = asyncio.run(scrape_domain("robots-delay.com", options, resolver=resolver))
    assert result.outcome is Outcome.OK
    assert site.paths("robots-delay.com") == ["/robots.txt", "/", "/contact"]
    assert time.monotonic() - started >= 0.8  # two gaps of 0.4 s after robots.txt


def test_crawl_delay_is_capped_and_status_rules_follow_the_rfc() -> None:
    policy = parse_robots("User-agent: *\nCrawl-delay: 3600\nDisallow: /x\n")
    assert policy.crawl_delay("bot", cap_s=10) == 10
    assert not policy.can_fetch("http://a.com/x/y", "bot")
    assert policy.can_fetch("http://a.com/", "bot")
    assert policy_for_status(404, None).can_fetch("http://a.com/anything", "bot")
    assert policy_for_status(401, None).can_fetch("http://a.com/anything", "bot")
    denied = policy_for_status(500, None)
    assert not denied.can_fetch("http://a.com/", "bot") and denied.outcome is Outcome.UNREACHABLE
