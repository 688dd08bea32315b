"""The site's own organisation is the record's only name; every other name is a typed mention."""

from __future__ import annotations

import json

from actors.scrape.extract import extract_page
from actors.scrape.merge import merge_pages

NEWS = {"@context": "https://schema.org", "@graph": [
    {"@type": "NewsMediaOrganization", "name": "Harbour Times Ltd",
     "url": "https://harbour-times.co.uk/", "telephone": "+44 20 7946 0000"},
    {"@type": "WebSite", "name": "Harbour Times", "publisher": {"@id": "#org"}},
    {"@type": "NewsArticle", "headline": "Ferry strike ends after two weeks",
     "author": {"@type": "Person", "name": "Jane Doe"},
     "publisher": {"@type": "Organization", "name": "Syndication Partner AG",
                   "url": "https://partner.example.de/", "telephone": "+49 30 901820"},
     "image": {"@type": "ImageObject", "url": "https://harbour-times.co.uk/ferry.jpg",
               "copyrightHolder": {"@type": "Organization", "name": "Photo: Coastal Press"}},
     "about": {"@type": "Corporation", "name": "Ferry Lines plc"}},
]}
MICRODATA_TEASER = """<div itemscope itemtype="https://schema.org/Organization">
<h2 itemprop="name">Council approves new harbour wall</h2></div>"""


def _page(html_body: str = "", ld: dict | None = None, url: str = "https://harbour-times.co.uk/"):
    script = f'<script type="application/ld+json">{json.dumps(ld)}</script>' if ld else ""
    html = f"<html><head><title>Harbour Times</title>{script}</head><body>{html_body}</body></html>"
    return extract_page(html, url, main_text=False)


def test_only_the_sites_own_organisation_is_a_name() -> None:
    page = _page(MICRODATA_TEASER, NEWS)
    assert page.names == ["Harbour Times Ltd"]
    kinds = {(m.kind, m.name) for m in page.mentions}
    assert ("person", "Jane Doe") in kinds
    assert ("organization", "Syndication Partner AG") in kinds
    assert ("credit", "Photo: Coastal Press") in kinds
    assert ("organization", "Ferry Lines plc") in kinds
    assert ("organization", "Council approves new harbour wall") in kinds
    roles = {m.name: m.role for m in page.mentions}
    assert roles["Photo: Coastal Press"] == "image.copyrightHolder"
    assert roles["Jane Doe"] == "author"


def test_contacts_of_other_companies_are_not_the_sites() -> None:
    page = _page("", NEWS)
    assert page.phones == ["+442079460000"]  # not the syndication partner's number


def test_the_organisation_on_the_sites_own_domain_wins_over_an_earlier_one() -> None:
    ld = {"@context": "https://schema.org", "@graph": [
        {"@type": "Organization", "name": "Web Agency GmbH", "url": "https://agency.example/"},
        {"@type": "Organization", "name": "Harbour Times Ltd",
         "url": "https://harbour-times.co.uk/"}]}
    assert _page("", ld).names == ["Harbour Times Ltd"]


def test_the_record_name_comes_from_the_site_organisation_and_mentions_are_kept() -> None:
    home = _page(MICRODATA_TEASER, NEWS)
    about = _page("", {"@context": "https://schema.org", "@type": "Organization",
                       "name": "Harbour Times Ltd", "legalName": "Harbour Times Limited",
                       "founder": {"@type": "Person", "name": "Ann Smith"}},
                  url="https://harbour-times.co.uk/about")
    record = merge_pages("harbour-times.co.uk", [home, about])
    assert record.name.value == "Harbour Times Ltd"
    assert record.legal_name.value == "Harbour Times Limited"
    mentioned = {(m.value.kind, m.value.name): m.source for m in record.mentions}
    assert mentioned[("person", "Ann Smith")] == "https://harbour-times.co.uk/about"
    assert ("person", "Jane Doe") in mentioned
    assert all(m.value.name != "Harbour Times Ltd" for m in record.mentions)
