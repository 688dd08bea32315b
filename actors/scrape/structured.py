"""Embedded metadata: JSON-LD (each script on its own), microdata and OpenGraph.

Output shapes match extruct's (``JsonLdExtractor``, ``MicrodataExtractor``,
``OpenGraphExtractor``) so the extruct sample pages are the reference; the difference is that a
broken JSON-LD block is reported and skipped instead of failing the whole page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

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
        items.extend(item for item in values if item)
    return items, errors


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


def microdata(tree: HtmlElement, base_url: str | None = None) -> list[dict]:
    from extruct.w3cmicrodata import MicrodataExtractor

    return list(MicrodataExtractor().extract_items(tree, base_url))


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


def entities(jsonld_items: list[Any], microdata_items: list[dict]) -> Iterator[dict]:
    """Every typed node (JSON-LD and microdata, nested ones too) as a JSON-LD-like dict."""
    roots = flatten_graph(jsonld_items) + [_from_microdata(i) for i in microdata_items]
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("@type"):
                yield node
            stack.extend(reversed([v for v in node.values() if isinstance(v, dict | list)]))
        elif isinstance(node, list):
            stack.extend(reversed(node))
