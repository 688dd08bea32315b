"""Emails from a parsed page, de-obfuscated and normalised (phones: ``phones.py``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import unquote

from lxml.html import HtmlElement

EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
    r"\.[A-Za-z]{2,24}(?![\w-])"
)
_AT = re.compile(r"\s*(?:\[\s*at\s*\]|\(\s*at\s*\)|\{\s*at\s*\}|<\s*at\s*>|\s+\[@\]\s+)\s*", re.I)
_DOT = re.compile(r"\s*(?:\[\s*dot\s*\]|\(\s*dot\s*\)|\{\s*dot\s*\}|<\s*dot\s*>)\s*", re.I)
_NOT_TLDS = {"png", "jpg", "jpeg", "gif", "webp", "svg", "js", "css", "ico", "avif"}
_CF_PATH = re.compile(r"/cdn-cgi/l/email-protection#([0-9a-fA-F]+)")


def decode_cfemail(hex_string: str) -> str | None:
    """Cloudflare email protection: first byte is the XOR key of the rest."""
    try:
        data = bytes.fromhex(hex_string)
    except ValueError:
        return None
    if len(data) < 2:
        return None
    key = data[0]
    try:
        return bytes(b ^ key for b in data[1:]).decode("utf-8")
    except UnicodeDecodeError:
        return None


def deobfuscate(text: str) -> str:
    """``info [at] acme (dot) com`` → ``info@acme.com``."""
    return _DOT.sub(".", _AT.sub("@", text))


def clean_email(raw: str) -> str | None:
    value = unquote(raw).strip().strip(".,;:<>()[]\"'")
    match = EMAIL.fullmatch(value)
    if not match:
        return None
    local, _, domain = value.rpartition("@")
    if domain.rsplit(".", 1)[-1].lower() in _NOT_TLDS:
        return None
    return f"{local}@{domain.lower()}"


def _mailto_values(href: str) -> Iterator[str]:
    body = href.split(":", 1)[1].split("?", 1)[0]
    yield from unquote(body).split(",")


def emails_from(tree: HtmlElement, text: str) -> list[str]:
    """Emails from mailto links, Cloudflare protection, attributes and (de-obfuscated) text."""
    found: list[str] = []
    for el in tree.iter("a", "area"):
        href = (el.get("href") or "").strip()
        if href.lower().startswith("mailto:"):
            found.extend(_mailto_values(href))
        elif (m := _CF_PATH.search(href)) and (dec := decode_cfemail(m.group(1))):
            found.append(dec)
    for el in tree.xpath("//*[@data-cfemail]"):
        if dec := decode_cfemail(el.get("data-cfemail", "")):
            found.append(dec)
    found.extend(EMAIL.findall(deobfuscate(text)))
    return _unique(e for raw in found if (e := clean_email(raw)))


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
