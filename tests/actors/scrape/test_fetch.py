"""Fetch limits against a real server: size cap, gzip bombs, slow drips, charsets."""

from __future__ import annotations

import asyncio
import time

from scrape_sites import SiteServer

from actors.scrape.crawl import ScrapeOptions, build_client, scrape_domain
from actors.scrape.fetch import FetchLimits, FetchResult, decode_body, fetch
from actors.scrape.outcomes import Outcome, ScrapeError
from actors.scrape.transport import Resolver


def _get(url: str, resolver: Resolver, limits: FetchLimits, **kw) -> FetchResult | ScrapeError:
    async def go() -> FetchResult:
        async with build_client(ScrapeOptions(allow_loopback=True), resolver) as client:
            return await fetch(client, url, limits, **kw)

    try:
        return asyncio.run(go())
    except ScrapeError as exc:
        return exc


def test_a_body_over_the_cap_is_too_large(site: SiteServer, resolver: Resolver) -> None:
    result = _get("http://big-page.com/", resolver, FetchLimits(max_bytes=500_000))
    assert isinstance(result, ScrapeError) and result.outcome is Outcome.TOO_LARGE


def test_a_gzip_bomb_is_too_large_on_decoded_bytes(site: SiteServer, resolver: Resolver) -> None:
    result = _get("http://gzip-bomb.com/", resolver, FetchLimits(max_bytes=1_000_000))
    assert isinstance(result, ScrapeError) and result.outcome is Outcome.TOO_LARGE
    assert "decoded" in result.message


def test_a_slow_drip_hits_the_total_deadline(site: SiteServer, resolver: Resolver) -> None:
    started = time.monotonic()
    result = _get("http://slow-drip.com/", resolver, FetchLimits(read_s=5, deadline_s=1.0))
    assert isinstance(result, ScrapeError) and result.outcome is Outcome.TIMEOUT
    assert time.monotonic() - started < 3


def test_the_charset_header_decodes_the_body(site: SiteServer, resolver: Resolver) -> None:
    result = _get("http://latin1-site.com/", resolver, FetchLimits())
    assert isinstance(result, FetchResult) and "Größe" in (result.text or "")


def test_a_non_html_body_is_not_read(site: SiteServer, resolver: Resolver) -> None:
    result = _get("http://acme-widgets.com/robots.txt", resolver, FetchLimits())
    assert isinstance(result, FetchResult)
    assert not result.accepted and result.text is None


def test_meta_charset_and_bom_are_honoured() -> None:
    assert decode_body('<meta charset="windows-1252"><p>café</p>'.encode("cp1252")).endswith(
        "café</p>")
    assert decode_body(b"\xef\xbb\xbf<p>\xc3\xa9</p>") == "<p>é</p>"
    assert decode_body("<p>ü</p>".encode("latin-1")) == "<p>ü</p>"  # not UTF-8: cp1252


def test_domain_outcomes_for_oversize_bomb_drip_and_forbidden(
    site: SiteServer, resolver: Resolver, options: ScrapeOptions
) -> None:
    options = options.model_copy(update={"limits": FetchLimits(deadline_s=1, max_bytes=500_000)})

    async def go():
        return await asyncio.gather(*(
            scrape_domain(d, options, resolver=resolver)
            for d in ("big-page.com", "gzip-bomb.com", "slow-drip.com", "forbidden-site.com",
                      "unknown-host.com")))

    outcomes = {r.domain: r.outcome for r in asyncio.run(go())}
    assert outcomes == {"big-page.com": Outcome.TOO_LARGE, "gzip-bomb.com": Outcome.TOO_LARGE,
                        "slow-drip.com": Outcome.TIMEOUT, "forbidden-site.com": Outcome.BLOCKED,
                        "unknown-host.com": Outcome.UNREACHABLE}
