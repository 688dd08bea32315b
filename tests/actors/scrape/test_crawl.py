"""Whole-domain scrapes against the local site: page choice, politeness, the merged record."""

from __future__ import annotations

import asyncio

from scrape_sites import SiteServer

from actors.scrape.crawl import DomainResult, ScrapeOptions, scrape_domain, scrape_many
from actors.scrape.extract import Link
from actors.scrape.outcomes import Outcome, job_error
from actors.scrape.pages import choose_pages
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
