"""Company and product fields from schema.org nodes (JSON-LD or microdata, same shape)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from actors.scrape.links import http_url
from actors.scrape.structured import short_type

ORG_TYPES = {
    "Organization", "Corporation", "LocalBusiness", "NGO", "OnlineBusiness", "OnlineStore",
    "EducationalOrganization", "GovernmentOrganization", "MedicalOrganization",
    "NewsMediaOrganization", "SportsOrganization", "Restaurant", "Hotel", "Attorney",
    "Dentist", "Physician", "Brewery", "Winery", "Bakery", "CafeOrCoffeeShop", "BarOrPub",
}
_ORG_SUFFIXES = ("Business", "Organization", "Store", "Service", "Establishment", "Agency",
                 "Office", "Shop", "Center", "Clinic", "Dealer", "Contractor")
#: Types ending like an organisation's that are services, not organisations.
_NOT_ORGS = {"Service", "BroadcastService", "CableOrSatelliteService", "GovernmentService",
             "FoodService", "TaxiService", "WebAPI"}
PRODUCT_TYPES = {"Product", "ProductGroup", "ProductModel", "IndividualProduct", "SomeProducts",
                 "Vehicle", "Car"}
_COUNTRIES = {"germany": "DE", "deutschland": "DE", "italy": "IT", "italia": "IT",
              "france": "FR", "switzerland": "CH", "schweiz": "CH", "austria": "AT",
              "österreich": "AT", "united states": "US", "usa": "US", "united kingdom": "GB",
              "uk": "GB", "japan": "JP", "spain": "ES", "españa": "ES", "netherlands": "NL"}


class Address(BaseModel):
    street: str | None = None
    locality: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    text: str

    def country_code(self) -> str | None:
        c = (self.country or "").strip()
        if len(c) == 2 and c.isalpha():
            return c.upper()
        return _COUNTRIES.get(c.lower())


def is_org(node: dict) -> bool:
    return any(t in ORG_TYPES or (t.endswith(_ORG_SUFFIXES) and t not in _NOT_ORGS)
               for t in short_type(node.get("@type")))


def is_product(node: dict) -> bool:
    """Product-like types, in any case (``"@type": "product"`` is common)."""
    return any(t in PRODUCT_TYPES or t.capitalize() in PRODUCT_TYPES
               for t in short_type(node.get("@type")))


def text(value: Any) -> str | None:
    """A plain string from a schema value (first of a list, ``name``/``@value`` of a node)."""
    if isinstance(value, list):
        return next((t for v in value if (t := text(v))), None)
    if isinstance(value, dict):
        return text(value.get("name") or value.get("@value"))
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        s = " ".join(str(value).split())
        return s or None
    return None


def urls(value: Any, base: str) -> list[str]:
    """Absolute http(s) URLs from a string, node (url/contentUrl/@id) or list."""
    if isinstance(value, list):
        return [u for v in value[:50] for u in urls(v, base)]
    if isinstance(value, dict):
        return urls(value.get("url") or value.get("contentUrl") or value.get("@id"), base)
    if isinstance(value, str) and value.strip():
        absolute = http_url(base, value)
        return [absolute] if absolute else []
    return []


def address(value: Any) -> list[Address]:
    if isinstance(value, list):
        return [a for v in value for a in address(v)]
    if isinstance(value, str) and value.strip():
        return [Address(text=" ".join(value.split()))]
    if not isinstance(value, dict):
        return []
    parts = {
        "street": text(value.get("streetAddress")),
        "locality": text(value.get("addressLocality")),
        "region": text(value.get("addressRegion")),
        "postal_code": text(value.get("postalCode")),
        "country": text(value.get("addressCountry")),
    }
    line = ", ".join(p for p in (parts["street"], " ".join(
        p for p in (parts["postal_code"], parts["locality"]) if p), parts["region"],
        parts["country"]) if p)
    return [Address(text=line, **parts)] if line else []


def _strings(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [t for v in values if (t := text(v))]


def organization_fields(node: dict, base: str) -> dict[str, Any]:
    """The company fields one Organization-like node carries."""
    contact = node.get("contactPoint")
    contacts = contact if isinstance(contact, list) else [contact] if contact else []
    return {
        "name": text(node.get("name")),
        "legal_name": text(node.get("legalName")),
        "url": next(iter(urls(node.get("url"), base)), None),
        "description": text(node.get("description")),
        "logos": urls(node.get("logo"), base),
        "images": urls(node.get("image"), base),
        "emails": _strings(node.get("email")) + [
            e for c in contacts if isinstance(c, dict) for e in _strings(c.get("email"))],
        "phones": _strings(node.get("telephone")) + [
            t for c in contacts if isinstance(c, dict) for t in _strings(c.get("telephone"))],
        "addresses": address(node.get("address")),
        "same_as": urls(node.get("sameAs"), base),
    }
