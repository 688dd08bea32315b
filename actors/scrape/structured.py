"""Embedded metadata: JSON-LD (each script on its own), microdata and OpenGraph.

Output shapes match extruct's (``JsonLdExtractor``, ``MicrodataExtractor``,
``OpenGraphExtractor``) so the extruct sample pages are the reference; the difference is that a
broken JSON-LD block is reported and skipped instead of failing the whole page.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

_JSONLD = lxml.etree.XPath('descendant-or-self::script[@type="application/ld+json"]')
_COMMENTLINE = re.compile(r"^\s*(//.*|<!--.*-->)")


def parse_tree(html: str | bytes) -> HtmlElement:
    """Parse with lxml's HTML parser the way extruct does (UTF-8 bytes in)."""
    data = html.encode("utf-8", errors="replace") if isinstance(html, str) else html
    parser = lxml.html.HTMLParser(encoding="utf-8")
    try:
        return lxml.html.fromstring(data or b"<html></html>", parser=parser)
    except lxml.etree.ParserError:
        return lxml.html.fromstring(b"<html></html>", parser=parser)


def _parse_script(text: str) -> Any:
    try:
        return json.loads(text, strict=False)
    except ValueError:
        import jstyleson  # tolerant of JS comments, like extruct

        return jstyleson.loads(_COMMENTLINE.sub("", text), strict=False)


def jsonld(tree: HtmlElement) -> tuple[list[Any], list[str]]:
    """(items in document order, one error message per script that could not be parsed)."""
    items: list[Any] = []
    errors: list[str] = []
    for index, node in enumerate(_JSONLD(tree)):
        try:
            data = _parse_script(node.xpath("string()"))
        except Exception as exc:  # noqa: BLE001 - any parser failure drops only this block
            errors.append(f"JSON-LD block {index}: {type(exc).__name__}: {exc}"[:300])
            continue
        values = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        items.extend(clean_json(item) for item in values if item)
    return items, errors


def clean_json(value: Any, depth: int = 0) -> Any:
    """``value`` with lone surrogates (``"\\ud800"`` escapes) replaced: they cannot be written
    back as UTF-8 or JSON. Nesting past 200 levels is cut."""
    if isinstance(value, str):
        return value.encode("utf-8", errors="replace").decode("utf-8")
    if depth > 200:
        return None
    if isinstance(value, list):
        return [clean_json(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {clean_json(k, depth + 1): clean_json(v, depth + 1) for k, v in value.items()}
    return value


def flatten_graph(items: list[Any]) -> list[dict]:
    """Top-level JSON-LD nodes with every ``@graph`` expanded in place (context kept)."""
    out: list[dict] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        graph = item.get("@graph")
        if isinstance(graph, list | dict):
            context = item.get("@context")
            for node in graph if isinstance(graph, list) else [graph]:
                if isinstance(node, dict):
                    out.extend(flatten_graph([{"@context": context, **node} if context else node]))
            rest = {k: v for k, v in item.items() if k not in ("@graph", "@context")}
            if rest:
                out.append(rest)
        else:
            out.append(item)
    return out


_URL_ATTRS = ("href", "src", "data", "poster", "resource", "about", "property", "typeof",
              "vocab", "rel", "rev", "datatype")
_IRI_LISTS = {"property", "typeof", "rel", "rev"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def microdata(tree: HtmlElement, base_url: str | None = None) -> list[dict]:
    """extruct's microdata items. A URL property that cannot be joined (``http://[x]``) makes
    extruct raise for the whole page: then such URLs are blanked in a copy and it runs again."""
    from extruct.w3cmicrodata import MicrodataExtractor

    from actors.scrape.links import join

    if base_url is not None and join(base_url, "") is None:
        base_url = None
    try:
        return list(MicrodataExtractor().extract_items(tree, base_url))
    except ValueError:
        return list(MicrodataExtractor().extract_items(without_bad_urls(tree, base_url),
                                                       base_url))


def without_bad_urls(tree: HtmlElement, base_url: str | None) -> HtmlElement:
    """A copy of ``tree`` whose URL and IRI attribute values that cannot be joined are dropped,
    whose ``itemref`` ids are reduced to characters an XPath literal can hold and whose text
    has no control characters (lxml refuses them in strings it builds)."""
    from actors.scrape.links import join

    clean = copy.deepcopy(tree)
    for el in clean.xpath("//*[@itemref]"):
        el.set("itemref", re.sub(r"[^\w \t\n\r.:-]", "", el.get("itemref", "")))
    for el in clean.iter():
        if el.text and _CONTROL.search(el.text):
            el.text = _CONTROL.sub("", el.text)
        if el.tail and _CONTROL.search(el.tail):
            el.tail = _CONTROL.sub("", el.tail)
        for attr in _URL_ATTRS:
            if (value := el.get(attr)) is None:
                continue
            tokens = value.split() if attr in _IRI_LISTS else [value]
            kept = _CONTROL.sub("", " ".join(
                t for t in tokens if join(base_url or "", t) is not None))
            if kept != value:
                el.set(attr, kept)
    return clean


def opengraph(tree: HtmlElement, base_url: str | None = None) -> list[dict]:
    from extruct.opengraph import OpenGraphExtractor

    return list(OpenGraphExtractor().extract_items(tree, base_url=base_url))


def og_properties(og_items: list[dict]) -> dict[str, str]:
    """First value of each OpenGraph property (``og:title`` → ``...``)."""
    props: dict[str, str] = {}
    for item in og_items:
        for key, value in item.get("properties", []):
            props.setdefault(key, value)
    return props


def short_type(value: Any) -> list[str]:
    """``http://schema.org/LocalBusiness`` → ``["LocalBusiness"]`` (lists kept)."""
    values = value if isinstance(value, list) else [value]
    return [re.split(r"[/#:]", v.rstrip("/"))[-1] for v in values if isinstance(v, str) and v]


def _from_microdata(item: dict) -> dict:
    node: dict[str, Any] = {"@type": short_type(item.get("type"))}
    for key, value in (item.get("properties") or {}).items():
        node[key] = _md_value(value)
    return node


def _md_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_md_value(v) for v in value]
    if isinstance(value, dict) and "properties" in value:
        return _from_microdata(value)
    return value


class Entity(NamedTuple):
    """A typed node, the property path that led to it (``()`` at top level) and its syntax."""

    node: dict
    path: tuple[str, ...]
    syntax: str


def typed_nodes(jsonld_items: list[Any], microdata_items: list[dict],
                rdfa_nodes: list[dict] | None = None) -> Iterator[Entity]:
    """Every typed node of every syntax, nested ones too, JSON-LD first, in document order."""
    roots = [(n, "json-ld") for n in flatten_graph(jsonld_items)]
    roots += [(_from_microdata(i), "microdata") for i in microdata_items]
    roots += [(n, "rdfa") for n in rdfa_nodes or []]
    for root, syntax in roots:
        stack: list[tuple[Any, tuple[str, ...]]] = [(root, ())]
        while stack:
            node, path = stack.pop()
            if isinstance(node, dict):
                if node.get("@type"):
                    yield Entity(node, path, syntax)
                children = [(v, (*path, k)) for k, v in node.items() if isinstance(v, dict | list)]
                stack.extend(reversed(children))
            elif isinstance(node, list):
                stack.extend(reversed([(v, path) for v in node]))


def entities(jsonld_items: list[Any], microdata_items: list[dict]) -> Iterator[dict]:
    """Every typed node (JSON-LD and microdata, nested ones too) as a JSON-LD-like dict."""
    for entity in typed_nodes(jsonld_items, microdata_items):
        yield entity.node


_SCHEMA_IRI = re.compile(r"^https?://schema\.org/")


_RDFA_TYPES = lxml.etree.XPath(
    "//*[@typeof][contains(@typeof,'Product') or contains(@typeof,'Offer') or "
    "contains(@typeof,'Organization') or contains(@typeof,'Business')]")


def rdfa(html: str, base_url: str, tree: HtmlElement | None = None) -> list[dict]:
    """schema.org RDFa as nested JSON-LD-like nodes. pyRdfa walks the whole document (about
    100 µs a node), so it only runs when ``tree`` has a Product, Offer or organisation
    ``typeof``."""
    if tree is not None and not _RDFA_TYPES(tree):
        return []
    from extruct.rdfa import RDFaExtractor
    from extruct.utils import parse_xmldom_html

    def run(data: bytes) -> list[dict]:
        dom = parse_xmldom_html(data, encoding="utf-8")
        return compact_rdfa(RDFaExtractor().extract_items(dom, base_url=base_url))

    try:
        return run(html.encode("utf-8", errors="replace"))
    except ValueError:
        if tree is None:
            raise
        return run(lxml.html.tostring(without_bad_urls(tree, base_url), encoding="utf-8"))


def compact_rdfa(expanded: list[Any]) -> list[dict]:
    """extruct's expanded RDFa graph → nested nodes with short schema.org keys."""
    by_id = {n["@id"]: n for n in expanded if isinstance(n, dict) and "@id" in n}
    typed = [n for n in by_id.values() if any(_SCHEMA_IRI.match(t) for t in n.get("@type", []))]
    referenced = {ref.get("@id") for n in typed for k, vs in n.items() if _SCHEMA_IRI.match(k)
                  for ref in (vs if isinstance(vs, list) else []) if isinstance(ref, dict)}
    return [_compact(n, by_id, set()) for n in typed if n["@id"] not in referenced]


def _compact(node: dict, by_id: dict[str, dict], seen: set[str]) -> dict:
    seen = seen | {node.get("@id", "")}
    out: dict[str, Any] = {"@type": short_type(node.get("@type", []))}
    for key, values in node.items():
        if not _SCHEMA_IRI.match(key) or not isinstance(values, list):
            continue
        converted = []
        for value in values:
            if not isinstance(value, dict):
                continue
            ref = value.get("@id")
            if ref in by_id and ref not in seen and len(seen) < 12:
                converted.append(_compact(by_id[ref], by_id, seen))
            else:
                converted.append(value.get("@value", ref))
        if converted:
            out[short_type(key)[0]] = converted[0] if len(converted) == 1 else converted
    return out
