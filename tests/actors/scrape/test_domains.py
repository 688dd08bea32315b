"""Domain normalisation with tldextract's bundled public suffix list (no network)."""

from __future__ import annotations

from actors.scrape.domains import cc_region, normalise_domains, registrable_domain


def test_urls_and_domains_are_normalised_to_their_host_and_duplicates_collapse() -> None:
    good, bad = normalise_domains([
        "Acme-Widgets.com", "https://acme-widgets.com/contact?x=1", "acme-widgets.com.",
        "http://user:pw@www.Example.co.uk:8080/path", "  shop.example.de  ", "bücher.de",
    ])
    assert good == ["acme-widgets.com", "www.example.co.uk", "shop.example.de",
                    "xn--bcher-kva.de"]
    assert bad == []


def test_invalid_entries_are_each_named_with_a_reason() -> None:
    items = ["", "not a domain", "localhost", "co.uk", "127.0.0.1", "2130706433",
             "http://[::1]/", "ftp://acme.com", "acme.invalidtld", "-bad-.com", "a..com"]
    good, bad = normalise_domains(items)
    assert good == []
    assert [entry.input for entry in bad] == items
    assert all(entry.reason for entry in bad)


def test_registrable_domain_and_country_region_come_from_the_suffix_list() -> None:
    assert registrable_domain("www.shop.acme.co.uk") == "acme.co.uk"
    assert registrable_domain("blog.acme-widgets.com") == "acme-widgets.com"
    assert cc_region("anwaltniemeyer.de") == "DE"
    assert cc_region("shop.acme.co.uk") == "GB"
    assert cc_region("acme.com") is None
    assert cc_region("strangemachines.io") is None  # generic-use ccTLD
