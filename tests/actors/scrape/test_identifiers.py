"""The product's sku: an evidence-weighted choice among the identifiers a page gives.

Every page here is hand-written for the cue it tests (none is a copy of a benchmark page)."""

from __future__ import annotations

import json

import lxml.html
import pytest

from actors.scrape.extract import extract_page
from actors.scrape.identifiers import Evidence, gather, labelled, plausible, product_sku


def _page(body: str, *, ld: dict | None = None, head: str = "") -> str:
    script = f'<script type="application/ld+json">{json.dumps(ld)}</script>' if ld else ""
    return f"<html><head><title>Thing</title>{head}{script}</head><body>{body}</body></html>"


def _sku(body: str, *, ld: dict | None = None, head: str = "",
         url: str = "https://shop.example.com/item") -> str | None:
    page = extract_page(_page(body, ld=ld, head=head), url, main_text=False)
    assert page.product is not None
    return page.product.sku


def _offer(**extra: object) -> dict:
    return {"@context": "https://schema.org", "@type": "Product", "name": "Garden chair",
            "offers": {"@type": "Offer", "price": "49.00", "priceCurrency": "EUR"}, **extra}


@pytest.mark.parametrize(("body", "sku"), [
    ("<dl><dt>Artikelnummer</dt><dd>AB-123</dd></dl>", "AB-123"),
    ("<p><span>Код товара:</span> <b>73556</b></p>", "73556"),
    ("<p>REF. 4387/347/800</p>", "4387/347/800"),
    ("<table><tr><th>ASIN</th><td>B00TEST123</td></tr></table>", "B00TEST123"),
    ("<p>상품번호 : 12345678</p>", "12345678"),
    ("<p>Referência produto: 15513912</p>", "15513912"),
    ("<div>Item No. <span class='id'>PU_106160/01</span></div>", "PU_106160/01"),
    ("<ul><li>Item Number (DPCI): 123-45-6789</li></ul>", "123-45-6789"),
    ("<p><b>SKU</b><i>:</i><span>WB-204</span></p>", "WB-204"),
    ("<p>Codice articolo: 66868</p>", "66868"),
    ("<p>Art.-Nr.: 2800395267</p>", "2800395267"),
    ("<p>Ad # 35985065</p>", "35985065"),
])
def test_a_labelled_code_on_the_page_is_the_sku_in_many_languages(body: str, sku: str) -> None:
    assert _sku(f"<h1>Garden chair</h1>{body}", ld=_offer()) == sku


def test_a_visible_product_code_beats_a_different_sku_that_only_markup_gives() -> None:
    body = ('<h1>Garden chair</h1><p class="product-code">Product code: 44556677</p>'
            '<div data-sku="237900001"></div><input type="hidden" name="sku" value="237900001">')
    assert _sku(body, ld=_offer(sku="237900001")) == "44556677"


def test_invisible_direction_marks_between_label_and_value_are_ignored() -> None:
    body = "<ul><li><span>ASIN \u200f:\u200e</span> <span>B07FW264WL</span></li></ul>"
    assert _sku(body, ld=_offer()) == "B07FW264WL"


def test_short_ambiguous_labels_need_a_code_of_five_characters() -> None:
    text = lxml.html.fromstring(
        "<body><p>Under art. 67 of the consumer code</p><p>Art. 1357247</p></body>")
    evidence = Evidence()
    labelled(evidence, "\n".join(t.strip() for t in text.itertext() if t.strip()))
    assert set(evidence.candidates) == {"1357247"}


def test_the_same_label_again_for_another_code_is_a_related_product() -> None:
    evidence = Evidence()
    labelled(evidence, "SKU: A-1001\nRelated\nSKU: B-2002\nASIN\nB00OTHER12")
    weights = {c.value: c.families["label"] for c in evidence.candidates.values()}
    assert weights == {"A-1001": 5.0, "B-2002": 2.5, "B00OTHER12": 4.0}


def test_labels_in_navigation_and_footer_are_not_the_products() -> None:
    body = ("<nav>SKU: NAV-0001</nav><h1>Garden chair</h1>"
            "<footer>Item # 99999999</footer>")
    assert _sku(body, ld=_offer(sku="GC-4411")) == "GC-4411"


def test_an_element_named_sku_holding_only_a_code_declares_it() -> None:
    body = '<h1>Garden chair</h1><div class="product-meta"><span class="sku">GC-77</span></div>'
    assert _sku(body, ld=_offer()) == "GC-77"


def test_markup_sku_productid_and_offer_sku_are_read() -> None:
    assert _sku("<h1>Garden chair</h1>", ld=_offer(sku="GC-1")) == "GC-1"
    assert _sku("<h1>Garden chair</h1>", ld=_offer(productID="sku:GC-2")) == "GC-2"
    offer = _offer()
    offer["offers"]["sku"] = "GC-3"
    assert _sku("<h1>Garden chair</h1>", ld=offer) == "GC-3"


def test_agreement_across_families_beats_one_family() -> None:
    # productID (markup, 2) + the URL (2) + data-product-id (1) beat a lone markup sku (3).
    body = '<h1>Garden chair</h1><div data-product-id="5432109"></div>'
    assert _sku(body, ld=_offer(sku="VAR-9", productID="5432109"),
                url="https://shop.example.com/p/garden-chair/5432109") == "5432109"


def test_urls_attributes_and_scripts_corroborate_but_do_not_declare_an_sku() -> None:
    body = ('<h1>Garden chair</h1><div data-product-id="5432109"></div>'
            '<script>dataLayer.push({"ecommerce": {"detail": {"products": '
            '[{"id": "5432109", "sku": "5432109"}]}}})</script>')
    assert _sku(body, ld=_offer(), url="https://shop.example.com/p/garden-chair") is None
    # Corroboration still decides between declared codes: the one the URL and scripts repeat.
    assert _sku(body, ld=_offer(productID="5432109", mpn="GC-5"),
                url="https://shop.example.com/p/garden-chair") == "5432109"


def test_a_page_that_declares_no_sku_gets_the_last_long_number_of_its_url() -> None:
    page = extract_page(_page("<h1>Garden chair</h1>", ld=_offer()),
                        "https://shop.example.com/p-chair-304103-14347.html?ref=3", main_text=False)
    assert (page.product.sku, page.product.sources["sku"]) == ("14347", "url")
    assert _sku("<h1>Garden chair</h1>", ld=_offer(),
                url="https://shop.example.com/c/1/chair?uid=16067472565517510018016014"
                ) == "16067472565517510018016014"
    assert _sku("<h1>Garden chair</h1>", ld=_offer(),
                url="https://shop.example.com/chair-2021/1234") is None


def test_a_manufacturer_part_number_alone_is_not_the_shops_sku() -> None:
    assert _sku("<h1>Garden chair</h1>", ld=_offer(mpn="GC-5500X"),
                url="https://shop.example.com/gc-5500x") is None


def test_only_the_first_element_named_sku_speaks_for_the_product() -> None:
    body = ('<h1>Garden chair</h1><ul class="related"><li><span class="sku">RT-101</span></li>'
            '<li><span class="sku">RT-102</span></li></ul>')
    evidence = gather([], None, lxml.html.fromstring(_page(body)), "https://shop.example.com/")
    assert evidence.candidates["RT101"].families == {"label": 3.0}
    assert "label" not in evidence.candidates["RT102"].families


def test_a_model_number_in_the_name_or_a_code_with_words_around_it_is_not_the_sku() -> None:
    ld = _offer(name="Panasonic NN-K35HWMEBG microwave", mpn="NN-K35HWMEBG",
                productID="Ca304103-0000 Montre")
    assert _sku("<h1>Panasonic NN-K35HWMEBG microwave</h1>", ld=ld) is None
    assert _sku("<h1>Panasonic NN-K35HWMEBG microwave</h1><p>ID Produto 1236291</p>",
                ld=ld) == "1236291"


def test_a_labelled_gtin_is_not_taken_for_the_sku() -> None:
    assert _sku("<h1>Garden chair</h1><p>EAN: 4006381333931</p>", ld=_offer()) is None


def test_one_code_written_two_ways_is_one_candidate_given_as_markup_writes_it() -> None:
    body = "<h1>Garden chair</h1><p>Article number</p><p>104.902.23</p>"
    url = "https://shop.example.com/p/garden-chair-10490223/"
    assert _sku(body, ld=_offer(sku="10490223"), url=url) == "10490223"
    assert _sku(body, ld=_offer(), url=url) == "104.902.23"


@pytest.mark.parametrize("value", ["19.99", "2021", "12.03.2021", "250 ml", "42", "abc",
                                   "Ca304103-0000 Montre"])
def test_prices_dates_years_sizes_and_words_are_not_identifiers(value: str) -> None:
    assert not plausible(value)


def test_odd_markup_values_never_raise() -> None:
    tree = lxml.html.fromstring(_page("<h1>x</h1><p>SKU: 123456</p>"))
    markup = [("sku", (True, "json-ld")), ("product_id", ({"a": 1}, "json-ld")),
              ("mpn", (123456, "microdata")), ("sku", (None, "meta"))]
    assert product_sku(markup, ["gtin"], tree, "http://[bad", []) == ("123456", "page")
    assert gather([], None, lxml.html.fromstring("<p>x</p>"), "").candidates == {}
