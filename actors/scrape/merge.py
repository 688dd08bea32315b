"""One company record per domain, every field with the URL of the page it came from."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from actors.scrape.extract import PageData
from actors.scrape.orgs import Mention
from actors.scrape.products import Product
from actors.scrape.schema_fields import Address

T = TypeVar("T")


class Sourced(BaseModel, Generic[T]):
    value: T
    source: str


class CompanyRecord(BaseModel):
    domain: str
    name: Sourced[str] | None = None  # the site's own organisation only
    legal_name: Sourced[str] | None = None
    mentions: list[Sourced[Mention]] = Field(default_factory=list)  # every other name
    description: Sourced[str] | None = None
    logo: Sourced[str] | None = None
    emails: list[Sourced[str]] = Field(default_factory=list)
    phones: list[Sourced[str]] = Field(default_factory=list)
    #: Phones written nationally whose region no ccTLD, address or lang gave: number → region.
    guessed_regions: dict[str, str] = Field(default_factory=dict)
    addresses: list[Sourced[Address]] = Field(default_factory=list)
    social: list[Sourced[str]] = Field(default_factory=list)
    images: list[Sourced[str]] = Field(default_factory=list)
    products: list[Sourced[Product]] = Field(default_factory=list)  # one per product page
    main_text: Sourced[str] | None = None
    pages: list[str] = Field(default_factory=list)


def _first(pages: list[PageData], *getters) -> Sourced | None:
    """The first non-empty value, trying each getter across all pages before the next."""
    for get in getters:
        for page in pages:
            if value := get(page):
                return Sourced(value=value, source=page.url)
    return None


def _union(pages: list[PageData], attr: str, key=lambda v: v, limit: int = 50) -> list[Sourced]:
    seen: set = set()
    out: list[Sourced] = []
    for page in pages:
        for value in getattr(page, attr):
            k = key(value)
            if k not in seen and len(out) < limit:
                seen.add(k)
                out.append(Sourced(value=value, source=page.url))
    return out


def _first_of(attr: str):
    return lambda page: next(iter(getattr(page, attr)), None)


def _guessed(pages: list[PageData], kept: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for page in pages:
        for number, region in page.guessed_regions.items():
            if number in kept:
                out.setdefault(number, region)
    return out


def _products(pages: list[PageData], limit: int = 50) -> list[Sourced[Product]]:
    seen: set = set()
    out: list[Sourced[Product]] = []
    for page in pages:
        product = page.product
        key = product and (product.name, product.sku, product.url)
        if product is not None and key not in seen and len(out) < limit:
            seen.add(key)
            out.append(Sourced(value=product, source=page.url))
    return out


def merge_pages(domain: str, pages: list[PageData]) -> CompanyRecord:
    """Merge the pages of one domain (home page first) into its company record."""
    return CompanyRecord(
        domain=domain,
        name=_first(pages, _first_of("names"), lambda p: p.site_name,
                    lambda p: p.og.get("og:title") if p is pages[0] else None,
                    lambda p: p.title if p is pages[0] else None),
        legal_name=_first(pages, _first_of("legal_names")),
        mentions=_union(pages, "mentions", key=lambda m: (m.kind, m.name.lower())),
        description=_first(pages, lambda p: p.description if p is pages[0] else None,
                           lambda p: p.description),
        logo=_first(pages, _first_of("logos")),
        emails=_union(pages, "emails", key=str.lower),
        phones=(phones := _union(pages, "phones")),
        guessed_regions=_guessed(pages, {p.value for p in phones}),
        addresses=_union(pages, "addresses", key=lambda a: a.text.lower()),
        social=_union(pages, "social", key=lambda u: u.rstrip("/").lower()),
        images=_union(pages, "images"),
        products=_products(pages),
        main_text=_first(pages, lambda p: p.main_text if p is pages[0] else None),
        pages=[p.url for p in pages],
    )
