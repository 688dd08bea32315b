"""The one product a page sells, from its structured data (JSON-LD, microdata, RDFa).

A page may carry many Product nodes: the product itself, related and recommended ones, the
same product in two syntaxes. :func:`main_product` picks the node the page is about (its
``url`` is the page, its name is in the title, its sku is in the URL, it has an offer), and
:func:`structured_fields` reads its fields and its best offer. Products found under relation
properties (``isRelatedTo``, ``isSimilarTo`` …) are never the page's product.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, Field

from actors.scrape.prices import currency_code, parse_amount
from actors.scrape.schema_fields import is_product, text, urls
from actors.scrape.structured import Entity, short_type

TERMS = ("InStock", "OutOfStock", "PreOrder", "PreSale", "BackOrder", "Discontinued",
         "InStoreOnly", "OnlineOnly", "LimitedAvailability", "SoldOut", "MadeToOrder",
         "Reserved")
_TERM_BY_KEY = {t.lower(): t for t in TERMS}
#: Free-text availability values seen in markup (lower case, letters and spaces only).
AVAILABILITY_WORDS = {
    "in stock": "InStock", "available": "InStock", "yes": "InStock", "true": "InStock",
    "not sold": "InStock", "instock": "InStock", "in_stock": "InStock",
    "out of stock": "OutOfStock", "oos": "OutOfStock", "sold": "OutOfStock",
    "sold out": "OutOfStock", "unavailable": "OutOfStock", "not available": "OutOfStock",
    "no": "OutOfStock", "false": "OutOfStock", "out_of_stock": "OutOfStock",
    "available for order": "BackOrder", "preorder": "PreOrder", "pre order": "PreOrder",
    "pending": "PreOrder", "discontinued": "Discontinued",
}
_RELATIONS = frozenset({"isRelatedTo", "isSimilarTo", "isAccessoryOrSparePartFor",
                        "isConsumableFor", "isVariantOf", "relatedLink", "mentions",
                        "itemListElement", "isBasedOn", "related", "recommendations"})
_NOT_PAID = ("ListPrice", "StrikethroughPrice", "SRP", "MSRP", "InvoicePrice",
             "MinimumAdvertisedPrice")
_GTIN_KEYS = ("gtin13", "gtin", "gtin12", "gtin14", "gtin8", "isbn")
FIELDS = ("name", "brand", "sku", "mpn", "gtin", "price", "currency", "availability", "url",
          "images")


class Product(BaseModel):
    """A page's product. ``sources`` names where each field came from (``json-ld``,
    ``microdata``, ``rdfa``, ``meta``, ``itemprop``, ``page``)."""

    name: str | None = None
    brand: str | None = None
    sku: str | None = None
    mpn: str | None = None
    gtin: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    availability: str | None = None
    url: str | None = None
    images: list[str] = Field(default_factory=list)
    sources: dict[str, str] = Field(default_factory=dict)


def availability_term(value: Any) -> str | None:
    """A schema.org ItemAvailability term from a URL, a term or a common phrase."""
    raw = text(value)
    if raw is None:
        return None
    last = re.split(r"[/#:]", raw.strip().rstrip("/"))[-1]
    if term := _TERM_BY_KEY.get(last.lower()):
        return term
    words = " ".join(re.sub(r"[^a-z_]+", " ", raw.lower()).split())
    return AVAILABILITY_WORDS.get(words)


def _get(node: dict, key: str) -> Any:
    """``node[key]``, case-insensitively (``lowprice`` for ``lowPrice``)."""
    if key in node:
        return node[key]
    lower = key.lower()
    return next((v for k, v in node.items() if isinstance(k, str) and k.lower() == lower), None)


def amount(value: Any, depth: int = 0) -> Decimal | None:
    """A positive price from a markup value: a number, a string, or a node holding one."""
    if isinstance(value, list):
        return next((a for v in value[:5] if (a := amount(v, depth + 1)) is not None), None)
    if isinstance(value, dict):
        if depth > 3:
            return None
        for key in ("@value", "value", "price", "amount", "decimalPrice"):
            if (a := amount(_get(value, key), depth + 1)) is not None:
                return a
        return next((a for v in value.values() if isinstance(v, dict)
                     and (a := amount(v, depth + 1)) is not None), None)
    found = parse_amount(value)
    return found if found else None  # 0 is a placeholder, not a price


def _currency(value: Any, depth: int = 0) -> str | None:
    if isinstance(value, dict) and depth < 3:
        return next((c for key in ("priceCurrency", "currency") if (
            c := _currency(_get(value, key), depth + 1))), None) or next(
            (c for v in value.values() if isinstance(v, dict)
             and (c := _currency(v, depth + 1))), None)
    return currency_code(text(value)) if not isinstance(value, dict) else None


def _offers(node: dict) -> list[dict]:
    """Every offer of a product, an AggregateOffer's own offers after it."""
    value = _get(node, "offers")
    flat, stack = [], list(value) if isinstance(value, list) else [value]
    while stack and len(flat) < 200:
        offer = stack.pop(0)
        if isinstance(offer, dict):
            flat.append(offer)
            inner = _get(offer, "offers")
            stack[0:0] = inner if isinstance(inner, list) else [inner] if inner else []
    return flat


def _specs(offer: dict) -> list[dict]:
    spec = _get(offer, "priceSpecification")
    specs = [s for s in (spec if isinstance(spec, list) else [spec]) if isinstance(s, dict)]
    paid = [s for s in specs if not any(p in str(s.get("priceType", "")) for p in _NOT_PAID)]
    return paid or specs


def offer_price(offer: dict) -> tuple[Decimal | None, str | None]:
    for source in [offer, *_specs(offer)]:
        for key in ("price", "lowPrice"):
            if (found := amount(_get(source, key))) is not None:
                return found, _currency(source) or _currency(offer)
    return None, _currency(offer)


def best_offer(offers: list[dict], page_url: str) -> dict | None:
    """The offer the page shows: the one whose sku is in the URL, else the first in stock
    with a price, else the first with a price."""
    priced = [o for o in offers if offer_price(o)[0] is not None] or offers
    in_url = unquote(page_url).lower()
    for wanted in (lambda o: (sku := _identifier(o, "sku")) and len(sku) >= 4
                   and sku.lower() in in_url,
                   lambda o: availability_term(_get(o, "availability")) == "InStock",
                   lambda o: True):
        if found := next((o for o in priced if wanted(o)), None):
            return found
    return None


def _same_page(node: dict, page_url: str) -> bool:
    return any(_path(u) == _path(page_url) for u in urls(_get(node, "url"), page_url))


def _path(url: str) -> str:
    try:
        return unquote(urlsplit(url).path).rstrip("/").lower()
    except ValueError:
        return ""


def _identifier(node: dict, key: str) -> str | None:
    value = text(_get(node, key))
    if value is None:
        return None
    value = re.sub(r"^(sku|mpn|gtin\d*|ean|isbn|upc):\s*", "", value, flags=re.I).strip()
    return value[:100] or None


def structured_fields(node: dict, syntax: str, page_url: str) -> dict[str, tuple[Any, str]]:
    """``field → (value, source)`` for one Product node and its best offer."""
    found: dict[str, Any] = {
        "name": text(_get(node, "name")),
        "brand": text(_get(node, "brand")) or text(_get(node, "manufacturer")),
        "sku": _identifier(node, "sku"),
        "product_id": _identifier(node, "productID"),
        "mpn": _identifier(node, "mpn"),
        "gtin": next((g for k in _GTIN_KEYS if (g := _identifier(node, k))), None),
        "url": next(iter(urls(_get(node, "url"), page_url)), None),
        "images": urls(_get(node, "image"), page_url)[:20],
    }
    offer = best_offer(_offers(node), page_url)
    if offer is not None:
        found["price"], found["currency"] = offer_price(offer)
        found["availability"] = availability_term(_get(offer, "availability")) or next(
            (a for o in _offers(node) if (a := availability_term(_get(o, "availability")))),
            None)
        found["sku"] = found["sku"] or _identifier(offer, "sku")
        found["gtin"] = found["gtin"] or next(
            (g for k in _GTIN_KEYS if (g := _identifier(offer, k))), None)
    return {k: (v, syntax) for k, v in found.items() if v not in (None, [], "")}


def _words(value: str | None) -> set[str]:
    return set(re.findall(r"\w{3,}", (value or "").lower()))


def _score(entity: Entity, page_url: str, titles: list[str]) -> int:
    node = entity.node
    score = 2 if any(offer_price(o)[0] for o in _offers(node)) else 0
    score += 1 if not entity.path else 0
    score += 3 if _same_page(node, page_url) else 0
    name = _words(text(_get(node, "name")))
    if name and any(len(name & _words(t)) >= max(1, len(name) // 2) for t in titles):
        score += 2
    sku = _identifier(node, "sku")
    if sku and len(sku) >= 4 and sku.lower() in unquote(page_url).lower():
        score += 2
    return score


def product_nodes(entities: list[Entity]) -> list[Entity]:
    """Product-typed nodes that are not related or listed products of something else."""
    return [e for e in entities if is_product(e.node) and not set(e.path) & _RELATIONS]


def main_product(entities: list[Entity], page_url: str, titles: list[str]) -> Entity | None:
    candidates = product_nodes(entities)
    if not candidates:
        return None
    scored = [(-_score(e, page_url, titles), order, e) for order, e in enumerate(candidates)]
    return min(scored, key=lambda s: (s[0], s[1]))[2]


def variant(entity: Entity, page_url: str) -> Entity:
    """A ProductGroup's variant this page shows (its URL or sku in the URL), else the group."""
    if "ProductGroup" not in short_type(entity.node.get("@type")):
        return entity
    variants = _get(entity.node, "hasVariant")
    for v in variants if isinstance(variants, list) else [variants]:
        if isinstance(v, dict) and (_same_page(v, page_url) or (
                (sku := _identifier(v, "sku")) and sku.lower() in page_url.lower())):
            return Entity({**entity.node, **v}, entity.path, entity.syntax)
    return entity


def from_structured(entities: list[Entity], page_url: str,
                    titles: list[str]) -> dict[str, tuple[Any, str]]:
    """The page's product fields from structured data; other syntaxes' copies of the same
    product (same sku, gtin or name) fill the fields the chosen node lacks."""
    main = main_product(entities, page_url, titles)
    if main is None:
        return {}
    main = variant(main, page_url)
    fields = structured_fields(main.node, main.syntax, page_url)
    for other in product_nodes(entities):
        if other.syntax == main.syntax or other.node is main.node:
            continue
        extra = structured_fields(other.node, other.syntax, page_url)
        if any(k in fields and k in extra and fields[k][0] == extra[k][0]
               for k in ("sku", "gtin", "name")):
            for key, value in extra.items():
                fields.setdefault(key, value)
    return fields
