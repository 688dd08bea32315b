"""One product per page: real product pages against their annotations, and each markup source."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import pytest

from actors.scrape.extract import extract_page
from actors.scrape.fetch import decode_body
from actors.scrape.prices import currency_code, parse_amount, parse_price

DATA = Path(__file__).resolve().parents[2] / "data" / "products"
TRUTH = json.loads((DATA / "ground-truth.json").read_text())


def _page(key: str):
    html = decode_body(gzip.decompress((DATA / "html" / f"{key}.html.gz").read_bytes()))
    return extract_page(html, TRUTH[key]["url"], main_text=False)


@pytest.mark.parametrize("key", sorted(TRUTH), ids=lambda k: TRUTH[k]["url"].split("/")[2])
def test_a_real_product_page_gives_its_annotated_price_sku_and_availability(key: str) -> None:
    truth, product = TRUTH[key], _page(key).product
    assert product is not None
    assert product.price in {Decimal(p) for p in truth["price"]}
    assert product.sku in truth["sku"]
    assert product.availability in truth["availability"]
    assert product.currency is not None and len(product.currency) == 3
    for field in ("brand", "gtin"):
        if field in truth:
            assert getattr(product, field) in truth[field], field
    assert set(product.sources) >= {"price", "sku", "availability"}


def test_each_field_names_its_source() -> None:
    by_host = {TRUTH[k]["url"].split("/")[2]: k for k in TRUTH}
    otto = _page(by_host["www.otto.de"]).product
    assert otto.sources["price"] == "microdata" and otto.sources["gtin"] == "microdata"
    zalando = _page(by_host["www.zalando.ie"]).product
    assert zalando.sources["price"] == "json-ld"
    mechta = _page(by_host["www.mechta.kz"]).product  # no structured offer on this page
    assert mechta.sources["price"] == "page" and mechta.currency == "KZT"
    ad = _page(by_host["www.laendleanzeiger.at"]).product
    assert ad.sources["sku"] == "page" and ad.sources["price"] == "page"  # "Anzeige: …"


def test_the_in_stock_offer_is_chosen_among_several() -> None:
    key = next(k for k in TRUTH if "zalando" in TRUTH[k]["url"])
    product = _page(key).product
    assert (product.price, product.availability) == (Decimal("70.5"), "InStock")


def _html(head: str = "", body: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


def test_meta_product_tags_give_the_offer_when_structured_data_is_missing() -> None:
    page = extract_page(_html(
        '<meta property="og:type" content="product">'
        '<meta property="product:price:amount" content="1.299,00">'
        '<meta property="product:price:currency" content="eur">'
        '<meta property="product:availability" content="out of stock">'
        '<meta property="product:retailer_item_id" content="AB-1234">'
        '<meta property="product:brand" content="Acme">', "<h1>Widget</h1>"),
        "https://shop.example.de/widget", main_text=False)
    product = page.product
    assert (product.price, product.currency, product.availability) == (
        Decimal("1299.00"), "EUR", "OutOfStock")
    assert (product.sku, product.brand) == ("AB-1234", "Acme")
    assert set(product.sources.values()) == {"meta"}


def test_itemprop_attributes_without_itemscope_are_read() -> None:
    page = extract_page(_html("", """<h1 itemprop="name">Kettle</h1>
        <span itemprop="price" content="49.90">49,90 €</span>
        <meta itemprop="priceCurrency" content="EUR">
        <link itemprop="availability" href="https://schema.org/InStock">
        <span itemprop="sku">KT-77</span><span itemprop="gtin13">4006381333931</span>"""),
        "https://shop.example.com/kettle", main_text=False)
    product = page.product
    assert (product.price, product.currency, product.availability) == (
        Decimal("49.90"), "EUR", "InStock")
    assert (product.sku, product.gtin) == ("KT-77", "4006381333931")
    assert product.sources["price"] == "itemprop"


def test_the_price_next_to_the_add_to_cart_button_is_the_offer() -> None:
    page = extract_page(_html("", """
        <header><a class="cart" href="/cart">Add to cart (0)</a><span class="price">9,99 €</span>
        </header><h1>Teapot</h1>
        <div class="related"><span class="price">4,99 €</span></div>
        <div class="buybox"><span class="price-old">89,00 €</span>
          <span class="product-price">59,00 €</span><p>Auf Lager</p>
          <button class="btn" id="add-to-cart">In den Warenkorb</button></div>
        <table><tr><th>Art.-Nr.</th><td>TP-2231</td></tr>
        <tr><th>Marke</th><td>Kanne &amp; Co</td></tr></table>"""),
        "https://kannen.example.de/teapot", main_text=False)
    product = page.product
    assert (product.price, product.currency, product.availability) == (
        Decimal("59.00"), "EUR", "InStock")
    assert (product.sku, product.brand) == ("TP-2231", "Kanne & Co")
    assert product.sources["price"] == "page"


def test_a_disabled_cart_button_or_a_sold_out_note_means_out_of_stock() -> None:
    body = ('<h1>Lamp</h1><div class="offer"><div><span class="price">$25.00</span>{note}'
            '<button {attr}>Add to cart</button></div></div>')
    for note, attr in (("", "disabled"), ("<p>Sold out</p>", "")):
        page = extract_page(_html("", body.format(note=note, attr=attr)),
                            "https://lamps.example.com/lamp", main_text=False)
        assert page.product.availability == "OutOfStock"
        assert (page.product.price, page.product.currency) == (Decimal("25.00"), "USD")


def test_rdfa_products_are_read() -> None:
    page = extract_page(_html("", """<div vocab="https://schema.org/" typeof="Product">
        <span property="name">Desk lamp</span><span property="sku">DL-9</span>
        <div property="offers" typeof="Offer"><span property="price" content="35.00">35 €</span>
        <meta property="priceCurrency" content="EUR">
        <link property="availability" href="https://schema.org/PreOrder"></div></div>"""),
        "https://lamps.example.com/desk", main_text=False)
    product = page.product
    assert (product.name, product.sku, product.price, product.currency, product.availability) \
        == ("Desk lamp", "DL-9", Decimal("35.00"), "EUR", "PreOrder")
    assert product.sources["price"] == "rdfa"


def test_related_products_are_not_the_page_product() -> None:
    ld = {"@context": "https://schema.org", "@type": "Product", "name": "Blue Chair",
          "sku": "BC-1", "offers": {"@type": "Offer", "price": 120, "priceCurrency": "GBP"},
          "isRelatedTo": [{"@type": "Product", "name": "Red Chair", "sku": "RC-1",
                           "offers": {"@type": "Offer", "price": 80, "priceCurrency": "GBP"}}]}
    page = extract_page(_html(f'<title>Blue Chair</title><script type="application/ld+json">'
                              f'{json.dumps(ld)}</script>'), "https://chairs.example.co.uk/b",
                        main_text=False)
    assert (page.product.sku, page.product.price) == ("BC-1", Decimal("120"))


def test_a_company_page_without_an_offer_has_no_product() -> None:
    page = extract_page(_html("<title>Acme</title>", "<h1>About Acme</h1><p>Since 1999.</p>"),
                        "https://acme.example.com/about", main_text=False)
    assert page.product is None


@pytest.mark.parametrize(("text", "amount", "currency"), [
    ("1.599,00 €", "1599.00", "EUR"), ("$1,299.00", "1299.00", "USD"),
    ("30,000원~", "30000", "KRW"), ("131 990 тг.", "131990", "KZT"), ("CHF 2.25", "2.25", "CHF"),
    ("R$ 1.759,99", "1759.99", "BRL"), ("£48.99", "48.99", "GBP"), ("206,-", "206", None)])
def test_visible_prices_are_decimals_with_iso_currencies(text: str, amount: str,
                                                         currency: str | None) -> None:
    assert parse_price(text) == (Decimal(amount), currency)


def test_markup_amounts_and_currency_codes_are_normalised() -> None:
    assert parse_amount("88.00") == Decimal("88.00")
    assert parse_amount(2.25) == Decimal("2.25")
    assert parse_amount("49,99") == Decimal("49.99")
    assert parse_amount("free") is None and parse_amount(True) is None
    assert [currency_code(c) for c in ("eur", "RUR", "€", "XYZ")] == ["EUR", "RUB", "EUR", None]
