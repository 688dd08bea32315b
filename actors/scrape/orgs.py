"""The site's own organisation among a page's schema.org nodes, and every other name as a mention.

A page's markup names many parties: the site's company, but also an article's author and
publisher, a photo's credit, a product's brand and manufacturer, people. Only one of them is
the site itself: a top-level Organization-like node (not a value of another node's property),
preferring one whose ``url`` / ``@id`` is on the page's own domain, then the ``publisher`` of
the WebSite / WebPage. Every other Organization, Person or Brand is a :class:`Mention` with its
kind and the property path it was found under, never a name of the record.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from actors.scrape import schema_fields
from actors.scrape.domains import registrable_domain
from actors.scrape.links import host_of
from actors.scrape.structured import Entity, short_type

#: Properties whose values belong to the site's own organisation (branches, departments).
OWN_PARTS = frozenset({"department", "subOrganization", "location", "contactPoint",
                       "branchOf", "hasPOS"})
#: Properties whose values are credits of a work (a photo, an article): typed as ``credit``.
CREDIT_ROLES = frozenset({"copyrightHolder", "creditText", "creator", "author", "contributor",
                          "photographer", "provider", "sourceOrganization"})
_WORK_TYPES = {"ImageObject", "Photograph", "MediaObject", "VideoObject"}
_SITE_TYPES = {"WebSite", "WebPage"}
_PERSON_TYPES = {"Person", "Patient"}
_BRAND_TYPES = {"Brand"}


class Mention(BaseModel):
    """A name the page mentions that is not the site's organisation."""

    kind: str  # organization | person | brand | credit
    name: str
    role: str  # the property path it was found under ("" at top level)


def _on_site(node: dict, host: str) -> bool:
    site = registrable_domain(host) if host else ""
    for key in ("url", "@id", "sameAs"):
        values = node.get(key)
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str) and site and registrable_domain(host_of(value)) == site:
                return True
    return False


def _rank(entity: Entity, host: str, parents: dict[int, dict]) -> tuple[int, int] | None:
    """Lower is better; ``None`` when the node can never be the site's organisation."""
    on_site = _on_site(entity.node, host)
    if not entity.path:
        return (0 if on_site else 2, 0)
    parent = parents.get(id(entity.node))
    if entity.path[-1] == "publisher" and parent is not None and (
            set(short_type(parent.get("@type"))) & _SITE_TYPES):
        return (1 if on_site else 3, 0)
    if on_site and entity.path[-1] == "publisher":
        return (4, 0)
    return None


def _parents(entities: list[Entity]) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for entity in entities:
        for value in entity.node.values():
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, dict):
                    out.setdefault(id(child), entity.node)
    return out


def site_organisation(entities: list[Entity], host: str) -> dict | None:
    """The node of the site's own organisation, or ``None``."""
    parents = _parents(entities)
    ranked = [(rank, order, e.node) for order, e in enumerate(entities)
              if schema_fields.is_org(e.node) and schema_fields.text(e.node.get("name"))
              and (rank := _rank(e, host, parents)) is not None]
    return min(ranked, key=lambda r: (r[0], r[1]))[2] if ranked else None


def own_nodes(entities: list[Entity], site: dict | None, host: str) -> list[dict]:
    """Nodes whose contacts are the site's: the site organisation, its parts, and other
    top-level organisations that look like its branches (on the site's domain, or with an
    address or phone and no other domain)."""
    if site is None:
        return []
    parents = _parents(entities)
    out = [site]
    for entity in entities:
        if entity.node is site or not schema_fields.is_org(entity.node):
            continue
        if (not entity.path and _branch(entity.node, host)) or (
                set(entity.path) & OWN_PARTS and _inside(entity.node, site, parents)):
            out.append(entity.node)
    return out


def _branch(node: dict, host: str) -> bool:
    if _on_site(node, host):
        return True
    off_site = any(isinstance(v, str) and v.startswith("http") for v in (
        node.get("url"), node.get("@id")))
    return not off_site and any(node.get(k) for k in ("address", "telephone", "email"))


def _inside(node: dict, site: dict, parents: dict[int, dict]) -> bool:
    for _ in range(32):
        node = parents.get(id(node))
        if node is None:
            return False
        if node is site:
            return True
    return False


def _kind(entity: Entity, parents: dict[int, dict]) -> str | None:
    types = set(short_type(entity.node.get("@type")))
    parent = parents.get(id(entity.node)) or {}
    if entity.path and entity.path[-1] in CREDIT_ROLES and (
            set(short_type(parent.get("@type"))) & _WORK_TYPES):
        return "credit"
    if types & _PERSON_TYPES:
        return "person"
    if types & _BRAND_TYPES:
        return "brand"
    if schema_fields.is_org(entity.node):
        return "organization"
    return None


def mentions(entities: list[Entity], exclude: list[dict]) -> list[Mention]:
    """Every Organization, Person and Brand name except those of ``exclude`` (by identity)."""
    parents = _parents(entities)
    skip = {id(n) for n in exclude}
    out: list[Mention] = []
    for entity in entities:
        if id(entity.node) in skip or (kind := _kind(entity, parents)) is None:
            continue
        if name := _name(entity.node):
            out.append(Mention(kind=kind, name=name[:200], role=".".join(entity.path)))
    return list({(m.kind, m.name, m.role): m for m in out}.values())


def _name(node: dict[str, Any]) -> str | None:
    name = schema_fields.text(node.get("name"))
    if name is None and set(short_type(node.get("@type"))) & _PERSON_TYPES:
        parts = [schema_fields.text(node.get(k)) for k in ("givenName", "familyName")]
        name = " ".join(p for p in parts if p) or None
    return name
