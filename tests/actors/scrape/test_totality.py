"""No page can raise out of the extractor: generated HTML and URL strings, and the known traps."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors.scrape.extract import PageData, extract_page
from actors.scrape.merge import merge_pages

TRAPS = ["http://[ccpa-preferences]", "https://[::1", "http://host:port/", "//[x]/y",
         "http://a b/", "javascript:void(0)", "tel:305-376-2217", "tel:", "mailto:",
         "data:image/png;base64,xx", "http://%zz/", "https://exa mple.com:99999/", "\x00",
         "http://[fe80::1%25eth0]/", "ftp://x/", "::", "#", "?q=1", "../../", "5.12.2022",
         "http://xn--/", "https://例え.jp/パス", "\ud800"]
urls = st.one_of(st.sampled_from(TRAPS), st.text(max_size=40),
                 st.builds(lambda a, b: f"http://{a}/{b}", st.text(max_size=15),
                           st.text(max_size=15)))
TYPES = ["Product", "ProductGroup", "Offer", "AggregateOffer", "Organization", "LocalBusiness",
         "Person", "Brand", "WebSite", "NewsArticle", "ImageObject", "PriceSpecification",
         "product"]
KEYS = ["@type", "@id", "@graph", "name", "url", "logo", "image", "sku", "gtin13", "mpn", "brand",
        "offers", "price", "lowPrice", "lowprice", "priceCurrency", "availability", "telephone",
        "email", "address", "sameAs", "publisher", "author", "hasVariant", "priceSpecification",
        "addressCountry", "copyrightHolder", "isRelatedTo", "contactPoint", "legalName"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.sampled_from(TYPES), urls, st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=6)),
    max_leaves=25)
attr_values = st.one_of(urls, st.sampled_from(TYPES), st.text(max_size=12),
                        st.sampled_from(["https://schema.org/Product", "product",
                                         "og:price:amount", "add-to-cart", "price", "sku"]))
ATTRS = ["href", "src", "content", "itemprop", "itemtype", "itemscope", "property", "typeof",
         "vocab", "name", "class", "id", "lang", "data-cfemail", "value", "type", "price",
         "data-sku", "disabled", "itemref"]
TAGS = ["a", "div", "span", "meta", "img", "base", "link", "h1", "button", "input", "p", "td",
        "th", "table", "header", "address", "title"]


def _attrs(pairs: list[tuple[str, str]]) -> str:
    return "".join(f' {k}="{v.replace(chr(34), "&quot;")}"' for k, v in pairs)


@st.composite
def elements(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        script = json.dumps(draw(json_values)) if draw(st.booleans()) else draw(st.text())
        return f'<script type="application/ld+json">{script}</script>'
    if kind == 1:
        return draw(st.text(max_size=40))  # text: dates, prices, phone-like digits, markup
    if kind == 2:
        return draw(st.sampled_from(["Tel.: 5.12.2022", "Tel 089 12345678", "1.599,00 €",
                                     "+49 30 22732152", "SKU: AB-12", "Add to cart", "$60"]))
    tag = draw(st.sampled_from(TAGS))
    pairs = draw(st.lists(st.tuples(st.sampled_from(ATTRS), attr_values), max_size=4))
    inner = "".join(draw(st.lists(elements(depth + 1), max_size=3))) if depth < 3 else ""
    return f"<{tag}{_attrs(pairs)}>{inner}</{tag}>"


pages = st.one_of(
    st.builds(lambda head, body, lang: f'<html lang="{lang}"><head>{head}</head>'
              f"<body>{body}</body></html>",
              st.lists(elements(), max_size=4).map("".join),
              st.lists(elements(), max_size=8).map("".join), st.text(max_size=8)),
    st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("latin-1")))


def _check(page: PageData) -> None:
    assert isinstance(page, PageData)
    json.loads(page.model_dump_json())
    record = merge_pages("example.com", [page])
    json.dumps(record.model_dump(mode="json"))


@settings(max_examples=500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(html=pages, url=urls)
def test_no_generated_page_or_url_raises_and_no_stage_fails(html: str, url: str) -> None:
    page = extract_page(html, url, main_text=False)
    _check(page)
    assert page.errors == []


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(html=pages, url=urls)
def test_the_main_text_stage_is_total_too(html: str, url: str) -> None:
    _check(extract_page(html, url, main_text=True))


def test_an_invalid_ipv6_link_is_skipped_and_the_page_keeps_its_fields() -> None:
    html = """<html><head><title>Acme</title></head><body>
    <a href="http://[ccpa-preferences]">Do not sell my info</a>
    <a href="/contact">Contact</a> <a href="http://host:port/">x</a>
    <p>info@acme-widgets.com · <a href="tel:+49-30-22732152">call</a></p></body></html>"""
    page = extract_page(html, "https://acme-widgets.com/")
    assert page.errors == []
    assert [link.url for link in page.links] == ["https://acme-widgets.com/contact"]
    assert page.emails == ["info@acme-widgets.com"] and page.phones == ["+493022732152"]


def test_a_malformed_base_url_or_page_url_does_not_raise() -> None:
    html = '<html><head><base href="http://[oops"></head><body><a href="/x">x</a></body></html>'
    for url in ("http://[ccpa-preferences]/", "", "not a url"):
        page = extract_page(html, url, main_text=False)
        _check(page)
        assert page.errors == []
