"""Emails and phone numbers from a parsed page, de-obfuscated and normalised."""

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
_LANG_REGION = {"ja": "JP", "de": "DE", "it": "IT", "fr": "FR", "es": "ES", "nl": "NL",
                "pl": "PL", "sv": "SE", "da": "DK", "fi": "FI", "pt": "PT", "cs": "CZ",
                "ko": "KR", "zh": "CN", "nb": "NO", "no": "NO", "hu": "HU", "el": "GR"}
MAX_PHONE_TEXT = 30_000


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


def region_hint(lang: str | None) -> str | None:
    """A region from ``<html lang>``: ``de-CH`` → ``CH``, ``ja`` → ``JP``, ``en`` → ``None``."""
    if not lang:
        return None
    parts = re.split(r"[-_]", lang.strip())
    if len(parts) > 1 and len(parts[1]) == 2 and parts[1].isalpha():
        return parts[1].upper()
    return _LANG_REGION.get(parts[0].lower())


def to_e164(raw: str, region: str | None) -> str | None:
    import phonenumbers

    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phones_from(tree: HtmlElement, text: str, region: str | None) -> list[str]:
    """E.164 numbers from ``tel:`` links and from text (valid numbers only)."""
    import phonenumbers

    found: list[str] = []
    for el in tree.iter("a"):
        href = (el.get("href") or "").strip()
        if href.lower().startswith(("tel:", "callto:")):
            raw = unquote(href.split(":", 1)[1]).split(";", 1)[0]
            if number := to_e164(raw, region):
                found.append(number)
    matcher = phonenumbers.PhoneNumberMatcher(text[:MAX_PHONE_TEXT], region or "ZZ",
                                              leniency=phonenumbers.Leniency.VALID)
    for match in matcher:
        found.append(phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164))
    return _unique(found)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
