"""SSRF through the real transport: refused targets are never connected to."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from scrape_sites import SiteServer

from actors.scrape.crawl import ScrapeOptions, build_client, scrape_domain
from actors.scrape.fetch import FetchLimits, fetch
from actors.scrape.outcomes import Outcome, ScrapeError
from actors.scrape.transport import Resolver, static_resolver

LIMITS = FetchLimits(connect_s=0.5, read_s=1, deadline_s=2)


def _fetch(url: str, resolver: Resolver, *, allow_loopback: bool = True) -> ScrapeError:
    async def go() -> None:
        opts = ScrapeOptions(allow_loopback=allow_loopback, limits=LIMITS)
        async with build_client(opts, resolver) as client:
            await fetch(client, url, LIMITS)

    with pytest.raises(ScrapeError) as info:
        asyncio.run(go())
    return info.value


def test_loopback_is_refused_without_the_explicit_flag(site: SiteServer) -> None:
    resolver = static_resolver({"acme-widgets.com": [("127.0.0.1", site.port)]})
    error = _fetch("http://acme-widgets.com/", resolver, allow_loopback=False)
    assert error.outcome is Outcome.BLOCKED
    assert site.log == []


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/", "http://2130706433/", "http://017700000001/", "http://0x7f.1/",
     "http://127.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[64:ff9b::7f00:1]/",
     "http://[2002:7f00:1::]/", "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
     "http://10.0.0.1/", "http://100.64.0.1/", "http://169.254.169.254/", "http://192.0.0.8/",
     "http://198.18.0.1/", "http://198.51.100.1/", "http://203.0.113.1/", "http://192.0.2.1/"],
)
def test_ip_literal_urls_of_internal_targets_are_refused(url: str) -> None:
    resolver = static_resolver({})
    assert _fetch(url, resolver, allow_loopback=False).outcome is Outcome.BLOCKED


def test_a_name_with_any_private_answer_is_refused(site: SiteServer) -> None:
    resolver = static_resolver({"mixed-answers.com": [("8.8.8.8", 80), ("10.0.0.1", 80)]})
    assert _fetch("http://mixed-answers.com/", resolver).outcome is Outcome.BLOCKED


def test_dns_rebinding_cannot_switch_the_target_after_the_check(site: SiteServer) -> None:
    """The resolver answers public first, then private (the local server). A check-then-fetch
    client resolves twice and reaches the server; ours dials the one address it checked."""
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[tuple[str, int]]:
        calls.append(host)
        if len(calls) == 1:
            return [("192.88.98.1", port)]  # public; whatever answers there, it is not us
        return [("127.0.0.1", site.port)]

    async def go() -> None:
        opts = ScrapeOptions(allow_loopback=True, limits=LIMITS)
        async with build_client(opts, rebinding) as client:
            # No route to the public address in a sandbox, or some answer: fine either way.
            with contextlib.suppress(ScrapeError):
                await fetch(client, "http://rebind-attack.com/", LIMITS, accept=None)

    asyncio.run(go())
    assert calls == ["rebind-attack.com"]
    assert site.log == []
    # A new connection resolves again and gets the private answer: refused before dialling.
    assert _fetch("http://rebind-attack.com/", rebinding, allow_loopback=False).outcome is (
        Outcome.BLOCKED)
    assert calls == ["rebind-attack.com"] * 2
    assert site.log == []


@pytest.mark.parametrize(
    "path",
    ["/", "/meta", "/cgnat-host", "/decimal", "/octal", "/hex", "/mapped", "/nat64", "/file"],
)
def test_redirects_to_internal_addresses_are_refused_hop_by_hop(
    site: SiteServer, resolver: Resolver, path: str
) -> None:
    error = _fetch(f"http://redirect-internal.com{path}", resolver)
    assert error.outcome is Outcome.BLOCKED
    assert site.paths("redirect-internal.com") == [path]


def test_redirects_to_allowed_hosts_are_followed(site: SiteServer, resolver: Resolver) -> None:
    async def go():
        opts = ScrapeOptions(allow_loopback=True, limits=LIMITS)
        async with build_client(opts, resolver) as client:
            return await fetch(client, "http://redirect-internal.com/chain", LIMITS)

    result = asyncio.run(go())
    assert result.url == "http://acme-widgets.com/contact"
    assert result.redirects == ["http://redirect-internal.com/chain",
                                "http://redirect-internal.com/chain2"]
    assert "Contact" in (result.text or "")


def test_a_domain_whose_home_redirects_inside_is_blocked(
    site: SiteServer, resolver: Resolver, options: ScrapeOptions
) -> None:
    result = asyncio.run(scrape_domain("redirect-internal.com", options, resolver=resolver))
    assert result.outcome is Outcome.BLOCKED
    assert result.record is None
