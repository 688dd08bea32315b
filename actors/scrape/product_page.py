"""Product fields from ordinary page markup, for pages whose structured data lacks them.

Each source is tagged in the product's ``sources``, and structured data (``json-ld``,
``microdata``, ``rdfa``: see ``products.py``) always wins over them:

* ``meta``: ``product:price:amount`` / ``og:price:amount`` / ``product:price:currency`` /
  ``product:availability`` / ``product:retailer_item_id`` / ``product:brand`` … tags;
* ``itemprop``: ``itemprop`` attributes outside any microdata item (``<meta itemprop="price">``
  on a page without ``itemscope``), which microdata parsers ignore;
* ``page``: what a shopper sees: the price next to the add-to-cart button (or under the
  product heading), a stock phrase near it, ``price=`` attributes on the cart control,
  labelled identifiers ("EAN", "MPN", a "Brand" table row).

The sku is chosen among every identifier the page gives (structured data, labelled codes,
attributes, scripts, the URL) by ``identifiers.py``; its source is the family that weighs
most for the chosen value (a markup syntax, ``page``, ``script`` or ``url``).

A shown price with an enabled cart control and no stock phrase counts as ``InStock``.
"""

from __future__ import annotations

import re
from typing import Any

from lxml.html import HtmlElement

from actors.scrape.identifiers import product_sku
from actors.scrape.prices import currency_code, parse_amount, parse_price
from actors.scrape.products import FIELDS, Product, availability_term, from_structured
from actors.scrape.structured import Entity

Fields = dict[str, tuple[Any, str]]
_META = {
    "product:price:amount": "price", "og:price:amount": "price", "product:price": "price",
    "og:price": "price", "product:sale_price:amount": "price",
    "product:price:currency": "currency", "og:price:currency": "currency",
    "product:sale_price:currency": "currency",
    "product:availability": "availability", "og:availability": "availability",
    "product:retailer_item_id": "sku", "product:sku": "sku", "product:retailer_part_no": "sku",
    "product:brand": "brand", "og:brand": "brand", "product:mfr_part_no": "mpn",
    "product:ean": "gtin", "product:gtin": "gtin", "product:upc": "gtin", "product:isbn": "gtin",
}
_ITEMPROP = {"price": "price", "lowprice": "price", "pricecurrency": "currency",
             "availability": "availability", "sku": "sku", "productid": "product_id",
             "mpn": "mpn", "gtin13": "gtin",
             "gtin": "gtin", "gtin12": "gtin", "gtin14": "gtin", "gtin8": "gtin",
             "brand": "brand"}
_CART = re.compile(
    r"add[\s_-]*to[\s_-]*(?:cart|basket|bag|trolley)|addtocart|add[\s_-]?cart|buy[\s_-]*now|"
    r"buy[\s_-]*button|in den (?:warenkorb|einkaufswagen)|ajouter au panier|"
    r"a[ñn]adir al (?:carrito|cesta)|agregar al carrito|aggiungi al carrello|"
    r"in (?:de )?winkelwagen|do koszyka|в корзину|sepete ekle|カートに入れる|장바구니|"
    r"구매하기|j'ach[eè]te", re.I)
_CART_WORD = re.compile(r"\s*(?:comprar|kaufen|acheter|купить|buy|in den warenkorb|"
                        r"add to cart|add to basket|add to bag)\s*", re.I)
_ATTRIBUTES = {"price": "price", "data-price": "price", "data-product-price": "price",
               "brand": "brand", "data-brand": "brand", "data-product-brand": "brand",
               "currency": "currency", "data-currency": "currency"}
_OUTSIDE = re.compile(r"header|mini-?cart|nav|footer|cookie|wishlist|compare", re.I)
_NOT_PAID = re.compile(r"old|was|strike|regular|list|before|orig|uvp|rrp|msrp|cross|save|"
                       r"saving|discount|unit|per-|instal|monthly|shipping|delivery|range|"
                       r"from|compare", re.I)
_IN = ("in stock", "auf lager", "sofort lieferbar", "lieferbar", "en stock", "disponible",
       "disponibile", "в наличии", "på lager", "op voorraad", "dostępny", "em estoque",
       "available now", "ready to ship", "在庫あり", "재고 있음")
_OUT = ("out of stock", "sold out", "ausverkauft", "nicht lieferbar", "nicht verfügbar",
        "épuisé", "rupture de stock", "agotado", "esaurito", "non disponibile",
        "нет в наличии", "niedostępny", "esgotado", "uitverkocht", "在庫切れ", "품절",
        "currently unavailable", "no longer available")
_LABELS = {
    "mpn": r"mpn|herstellernummer|hersteller-nr\.?|part\s*(?:no\.?|number)|mfr\.?\s*part|"
           r"model(?:l|o)?\s*(?:#|no\.?|number|nr\.?)?",
    "gtin": r"ean|gtin|upc|isbn|ean-?13",
    "brand": r"brand|marke|marque|marca|hersteller|бренд|производитель",
}
_ID = r"(?=[A-Za-z._/-]*\d)[A-Za-z0-9][A-Za-z0-9._/-]{2,40}"
_VALUE = {"mpn": _ID, "gtin": r"\d{8,14}",
          "brand": r"[^\W\d_][\w&'.+-]*(?: [\w&'.+-]+){0,3}"}


def _visible(el: HtmlElement) -> str:
    """The element's text without scripts and styles, whitespace collapsed."""
    parts = el.xpath(".//text()[not(ancestor::script) and not(ancestor::style)]")
    return " ".join(" ".join(str(p) for p in parts).split())


def meta_fields(tree: HtmlElement) -> Fields:
    found: Fields = {}
    implied: str | None = None  # a currency written inside the price ("30,000원")
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        field, content = _META.get(key), (meta.get("content") or "").strip()
        if field and content and field not in found and (
                value := _convert(field, content, markup=True)) is not None:
            found[field] = (value, "meta")
            implied = parse_price(content)[1] if field == "price" else implied
    if implied and "currency" not in found:
        found["currency"] = (implied, "meta")
    return found


def _convert(field: str, raw: str, *, markup: bool) -> Any:
    if field == "price":
        return parse_amount(raw, markup=markup) or None
    if field == "currency":
        return currency_code(raw)
    if field == "availability":
        return availability_term(raw)
    value = " ".join(raw.split())[:100]
    return value or None


def itemprop_fields(tree: HtmlElement) -> Fields:
    """``itemprop`` values that no microdata item holds (no ``itemscope`` above them)."""
    found: Fields = {}
    for el in tree.xpath("//*[@itemprop][not(ancestor-or-self::*[@itemscope])]")[:500]:
        for prop in (el.get("itemprop") or "").lower().split():
            field = _ITEMPROP.get(prop)
            if field is None or field in found:
                continue
            raw = el.get("content") or el.get("href") or el.get("value") or _visible(el)
            if raw and (value := _convert(field, raw.strip(), markup=el.get("content")
                                          is not None)) is not None:
                found[field] = (value, "itemprop")
    return found


def _ancestors(el: HtmlElement) -> list[HtmlElement]:
    out = []
    parent = el.getparent()
    while parent is not None:
        out.append(parent)
        parent = parent.getparent()
    return out


def _outside(el: HtmlElement) -> bool:
    """In the header, navigation, footer or a mini cart."""
    for node in [el, *_ancestors(el)]:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("header", "nav", "footer"):
            return True
        if _OUTSIDE.search(f"{node.get('id') or ''} {node.get('class') or ''}"):
            return True
    return False


def _is_cart(el: HtmlElement) -> bool:
    shown = " ".join((el.text_content() or "")[:200].split())[:60]
    label = " ".join([shown, el.get("value") or "", el.get("id") or "", el.get("name") or "",
                      el.get("class") or "", el.get("title") or "", el.get("aria-label") or "",
                      el.get("data-action") or ""])
    return bool(_CART.search(label) or _CART_WORD.fullmatch(shown))


def cart_button(tree: HtmlElement) -> HtmlElement | None:
    """The page's add-to-cart control (not the cart link in the header)."""
    controls = tree.xpath(
        "//button | //input[@type='submit' or @type='button' or @type='image'] | //a"
        " | //*[@role='button'] | //*[contains(@class,'buy') or contains(@class,'cart')"
        " or contains(@class,'basket')][not(*[3])]")[:3000]
    return next((el for el in controls if _is_cart(el) and not _outside(el)), None)


def attribute_fields(anchor: HtmlElement) -> Fields:
    """``price="131990" brand="BEKO"`` on the cart control or its close ancestors."""
    found: Fields = {}
    for el in [anchor, *_ancestors(anchor)[:3]]:
        for attr, value in el.attrib.items():
            field = _ATTRIBUTES.get(attr.lower())
            if field and field not in found and (converted := _convert(
                    field, value.strip(), markup=True)) is not None:
                found[field] = (converted, "page")
    return found


def _price_elements(scope: HtmlElement) -> list[HtmlElement]:
    out = []
    for el in scope.xpath(".//*[contains(translate(concat(@class,' ',@id,' ',@itemprop,' ',"
                          "@data-testid),'PRICE','price'),'price')]")[:300]:
        marker = f"{el.get('class') or ''} {el.get('id') or ''} {el.get('data-testid') or ''}"
        if _NOT_PAID.search(marker) or el.xpath("ancestor::del | ancestor::s | self::del"):
            continue
        text = _visible(el)
        if text and len(text) < 60 and re.search(r"\d", text):
            out.append(el)
    return out


def price_near(button: HtmlElement) -> tuple[Any, Any] | None:
    """(amount, currency) of the nearest price element around the add-to-cart button."""
    for scope in _ancestors(button)[:14]:
        elements = _price_elements(scope)
        if not elements:
            continue
        order = {el: i for i, el in enumerate(scope.iter())}
        at = order.get(button, 0)
        elements.sort(key=lambda el: (order.get(el, 0) > at, abs(order.get(el, 0) - at)))
        for el in elements:
            amount, currency = parse_price(_visible(el))
            if amount:
                return amount, currency
    return None


def _stock_phrase(text: str) -> str | None:
    low = text.lower()
    if any(p in low for p in _OUT):
        return "OutOfStock"
    if any(p in low for p in _IN):
        return "InStock"
    return None


def _label_patterns() -> dict[str, re.Pattern[str]]:
    return {field: re.compile(rf"^(?:{labels})(?!\w)\s*[:#.]?\s*[:#]?\s*(.*)$", re.I)
            for field, labels in _LABELS.items()}


_LABEL_RES = _label_patterns()
_LABEL_TAGS = ("td", "th", "dt", "dd", "span", "div", "li", "p", "label", "strong", "b", "h3",
               "h4", "em", "small")


def _short(value: str | None) -> str:
    return " ".join((value or "").split())[:120]


def labelled_fields(tree: HtmlElement) -> Fields:
    """``<th>Brand</th><td>Tefal</td>``, ``<b>SKU:</b> 123``, ``<li>EAN: 4006…</li>``."""
    found: Fields = {}
    for el in tree.iter(*_LABEL_TAGS):
        head = _short(el.text)
        if not head or len(head) > 80:
            continue
        for field, pattern in _LABEL_RES.items():
            if field in found or not (match := pattern.match(head)) or _outside_quick(
                    el, header=False):
                continue
            for value in (match.group(1), _short(el.tail) if not len(el) else "",
                          _next_text(el)):
                if value and (m := re.fullmatch(_VALUE[field], value.strip(" :#"))):
                    found[field] = (m.group(0).strip(), "page")
                    break
        if len(found) == len(_LABEL_RES):
            break
    return found


def _next_text(el: HtmlElement) -> str:
    sibling = el.getnext()
    if sibling is None or not isinstance(sibling.tag, str):
        return ""
    text = _visible(sibling)
    return text if len(text) <= 60 else ""


def _outside_quick(el: HtmlElement, *, header: bool = True) -> bool:
    tags = ["footer", "nav", "script", "style", *(["header"] if header else [])]
    return bool(el.xpath(" | ".join(f"ancestor::{t}" for t in tags)))


def _anchor(tree: HtmlElement) -> tuple[HtmlElement | None, bool]:
    """(where the offer is shown: the add-to-cart control, else the product's heading; whether
    it is a cart control)."""
    if (button := cart_button(tree)) is not None:
        return button, True
    heading = next((h for h in tree.iter("h1") if not _outside_quick(h, header=False)), None)
    return heading, False


def page_fields(tree: HtmlElement, product_page: bool) -> Fields:
    """What a shopper sees: price and stock by the cart button (or the product heading),
    labelled brand, mpn and gtin."""
    anchor, is_cart = _anchor(tree)
    if anchor is None or not (is_cart or product_page):
        return {}
    found = attribute_fields(anchor) if is_cart else {}
    if got := price_near(anchor):
        found.setdefault("price", (got[0], "page"))
        if got[1]:
            found.setdefault("currency", (got[1], "page"))
    box = next((a for a in _ancestors(anchor)[2:6] if len(_visible(a)) < 3000), None)
    stock = _stock_phrase(_visible(box)) if box is not None else None
    disabled = is_cart and (anchor.get("disabled") is not None
                            or "disabled" in (anchor.get("class") or ""))
    if stock or is_cart or "price" in found:
        # A shown price with an enabled cart control (or no stock phrase) is an offer in stock.
        found["availability"] = (stock or ("OutOfStock" if disabled else "InStock"), "page")
    for field, value in labelled_fields(tree).items():
        found.setdefault(field, value)
    return found


def page_product(entities: list[Entity], tree: HtmlElement, page_url: str,
                 titles: list[str], og_type: str | None) -> Product | None:
    """The page's one product: structured data first, then meta tags, loose ``itemprop``s and
    what the page shows; ``None`` when nothing says the page sells something."""
    structured = from_structured(entities, page_url, titles)
    fields = dict(structured)
    meta, loose = meta_fields(tree), itemprop_fields(tree)
    product_page = bool(fields) or og_type == "product" or any(
        {"price", "sku"} & found.keys() for found in (meta, loose))
    shown = page_fields(tree, product_page)
    if not product_page and "price" not in shown:
        return None
    for extra in (meta, loose, shown):
        for key, value in extra.items():
            fields.setdefault(key, value)
    markup = [(key, found[key]) for found in (structured, meta, loose)
              for key in ("sku", "product_id", "mpn") if key in found]
    names = [n for n in (fields.get("name", (None, ""))[0], *titles) if isinstance(n, str)]
    fields.pop("sku", None)
    if chosen := product_sku(markup, fields.get("gtin", (None, ""))[0], tree, page_url, names):
        fields["sku"] = chosen
    if "brand" in fields and isinstance(brand := fields["brand"][0], str) and ":" in brand:
        fields["brand"] = (brand.rsplit(":", 1)[1].strip() or brand, fields["brand"][1])
    values = {k: v for k, (v, _) in fields.items() if k in FIELDS}
    return Product(**values, sources={k: s for k, (_, s) in fields.items() if k in FIELDS})
