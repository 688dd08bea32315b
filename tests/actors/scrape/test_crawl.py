"""Whole-domain scrapes against the local site: page choice, politeness, the merged record."""

from __future__ import annotations

import asyncio

import pytest
from scrape_sites import SiteServer, crashing_extract

from actors.scrape.crawl import DomainResult, ScrapeOptions, scrape_domain, scrape_many
from actors.scrape.extract import Link
from actors.scrape.outcomes import Outcome, job_error
from actors.scrape.pages import choose_pages
from actors.scrape.pool import ProcessPool
from actors.scrape.transport import Resolver
from pools.errors import PermanentError, TransientError


def test_a_company_site_is_scraped_into_one_record_with_sources(
    site: SiteServer, resolver: Resolver, options: ScrapeOptions
) -> None:
    result = asyncio.run(scrape_domain("acme-widgets.com", options, resolver=resolver))
    assert result.outcome is Outcome.OK, result.error
    assert site.paths("acme-widgets.com") == ["/robots.txt", "/", "/contact", "/about-us",
                                              "/impressum"]
    blocked = [p for p in result.pages if p.outcome is Outcome.BLOCKED]
    assert [p.url for p in blocked] == ["http://acme-widgets.com/private/legal"]
    record = result.record
    assert record.name.value == "Acme Widgets GmbH" and record.name.source.endswith(".com/")
    assert record.legal_name.source == "http://acme-widgets.com/about-us"
    emails = {e.value: e.source for e in record.emails}
    assert emails["sales@acme-widgets.com"] == "http://acme-widgets.com/contact"
    assert emails["info@acme-widgets.com"] == "http://acme-widgets.com/about-us"
    assert {p.value for p in record.phones} == {"+493022732152", "+442079460958", "+498938380"}
    assert record.addresses[0].value.locality == "Berlin"
    assert record.logo.value == "http://acme-widgets.com/img/logo.png"
    assert record.pages == ["http://acme-widgets.com/", "http://acme-widgets.com/contact",
                            "http://acme-widgets.com/about-us", "http://acme-widgets.com/impressum"]


def test_many_domains_run_concurrently_and_keep_their_order(
    site: SiteServer, resolver: Resolver, options: ScrapeOptions
) -> None:
    seen: list[str] = []
    domains = ["acme-widgets.com", "robots-500.com", "robots-deny.com", "robots-404.com"]
    results = asyncio.run(scrape_many(domains, options, resolver=resolver,
                                      on_result=lambda r: seen.append(r.domain)))
    assert [r.domain for r in results] == domains
    assert [r.outcome for r in results] == [Outcome.OK, Outcome.UNREACHABLE, Outcome.BLOCKED,
                                            Outcome.OK]
    assert sorted(seen) == sorted(domains)
    assert all(isinstance(r, DomainResult) for r in results)


def test_outcomes_map_to_permanent_and_transient_job_errors() -> None:
    assert job_error(Outcome.OK, "") is None
    assert isinstance(job_error(Outcome.BLOCKED, "robots"), PermanentError)
    assert isinstance(job_error(Outcome.TOO_LARGE, "big"), PermanentError)
    assert isinstance(job_error(Outcome.UNREACHABLE, "dns"), TransientError)
    assert isinstance(job_error(Outcome.TIMEOUT, "slow"), TransientError)


def test_page_choice_prefers_one_of_each_kind_on_the_same_site() -> None:
    links = [Link(url=u, text=t) for u, t in [
        ("https://acme.com/blog", "Blog"), ("https://acme.com/legal/privacy", "Privacy"),
        ("https://shop.acme.com/kontakt", "Kontakt"), ("https://acme.com/contact-form", "Write"),
        ("https://acme.com/ueber-uns", "Wer wir sind"), ("https://other.com/contact", "Contact"),
        ("https://acme.com/impressum", "Impressum"), ("https://acme.com/files/contact.pdf", "PDF"),
    ]]
    assert choose_pages("https://acme.com/", links, 5) == [
        "https://shop.acme.com/kontakt", "https://acme.com/ueber-uns",
        "https://acme.com/impressum", "https://acme.com/legal/privacy"]
    assert choose_pages("https://acme.com/", links, 2) == ["https://shop.acme.com/kontakt"]


def test_a_malformed_link_does_not_sink_the_domain(
    site: SiteServer, resolver: Resolver, options: ScrapeOptions
) -> None:
    result = asyncio.run(scrape_domain("malformed-links.com", options, resolver=resolver))
    assert result.outcome is Outcome.OK, result.error
    assert [p.url for p in result.pages] == ["http://malformed-links.com/",
                                             "http://malformed-links.com/contact",
                                             "http://malformed-links.com/about"]
    assert all(p.outcome is Outcome.OK and p.extract_errors == [] for p in result.pages)
    record = result.record
    assert [e.value for e in record.emails] == ["hello@malformed-links.com"]
    assert [p.value for p in record.phones] == ["+442079460958"]


def _pool_extractor(pool: ProcessPool):
    async def run(html: str, url: str):
        return await pool.run(crashing_extract, html, url, timeout_s=60)

    return run


def test_a_page_whose_extraction_dies_is_recorded_and_the_domain_keeps_the_others(
    site: SiteServer, resolver: Resolver, options: ScrapeOptions
) -> None:
    async def go() -> DomainResult:
        async with ProcessPool(size=1) as pool:
            return await scrape_domain("dying-subpage.com", options, resolver=resolver,
                                       extractor=_pool_extractor(pool))

    result = asyncio.run(go())
    assert result.outcome is Outcome.OK, result.error
    by_url = {p.url: p for p in result.pages}
    crashed = by_url["http://dying-subpage.com/about/crash"]
    assert crashed.outcome is Outcome.EXTRACT_FAILED and crashed.status == 200
    assert "extraction process died" in crashed.error
    assert result.record.pages == ["http://dying-subpage.com/",
                                   "http://dying-subpage.com/contact"]
    assert [e.value for e in result.record.emails] == ["hello@dying-subpage.com"]


async def _raising(html: str, url: str):
    raise RuntimeError("extractor bug on " + url)


def test_a_home_page_extraction_crash_is_a_typed_permanent_failure(
    site: SiteServer, resolver: Resolver, options: ScrapeOptions
) -> None:
    result = asyncio.run(scrape_domain("robots-404.com", options, resolver=resolver,
                                       extractor=_raising))
    assert result.outcome is Outcome.EXTRACT_FAILED and result.record is None
    assert result.pages[0].outcome is Outcome.EXTRACT_FAILED
    assert "RuntimeError: extractor bug" in result.pages[0].error
    assert isinstance(job_error(result.outcome, result.error), PermanentError)


def test_one_domains_failure_never_touches_another_in_scrape_many(
    site: SiteServer, resolver: Resolver, options: ScrapeOptions
) -> None:
    def on_result(result: DomainResult) -> None:
        if result.domain == "robots-404.com":
            raise RuntimeError("the callback broke")

    async def go() -> list[DomainResult]:
        async with ProcessPool(size=1) as pool:
            return await scrape_many(
                ["crash-home.com", "acme-widgets.com", "robots-404.com", "malformed-links.com"],
                options, resolver=resolver, extractor=_pool_extractor(pool),
                on_result=on_result)

    results = asyncio.run(go())
    assert [r.domain for r in results] == ["crash-home.com", "acme-widgets.com",
                                           "robots-404.com", "malformed-links.com"]
    assert [r.outcome for r in results] == [Outcome.EXTRACT_FAILED, Outcome.OK, Outcome.OK,
                                            Outcome.OK]
    assert results[0].record is None
    assert all(r.record is not None and r.record.name for r in results[1:])


@pytest.mark.parametrize("outcome", [Outcome.EXTRACT_FAILED, Outcome.ERROR])
def test_new_outcomes_have_a_retry_policy(outcome: Outcome) -> None:
    error = job_error(outcome, "x")
    assert isinstance(error, PermanentError if outcome is Outcome.EXTRACT_FAILED
                      else TransientError)
    assert error.kind == f"scrape_{outcome.value}"
