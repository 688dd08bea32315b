"""Domain normalisation with the public suffix list, offline (tldextract's bundled snapshot)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import BaseModel

from actors.scrape.netguard import parse_ip_literal

if TYPE_CHECKING:
    import tldextract

#: Country-code TLDs marketed as generic: they say nothing about where a company is.
_GENERIC_CCTLDS = {"io", "co", "ai", "me", "tv", "ly", "fm", "gg", "to", "ws", "sh", "ac", "cx"}
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class BadEntry(BaseModel):
    """One rejected input line, for the API's 422 answer."""

    input: str
    reason: str


class InvalidDomain(ValueError):
    """The input is not a usable company domain."""


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    import tldextract

    # No URLs and no cache: only the snapshot bundled with the package is ever read.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def _host_of(item: str) -> str:
    text = item.strip()
    if not text:
        raise InvalidDomain("empty")
    if any(c.isspace() for c in text):
        raise InvalidDomain("contains whitespace")
    if "://" not in text:
        text = "//" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        if parts.scheme and parts.scheme not in ("http", "https"):
            raise InvalidDomain(f"unsupported scheme {parts.scheme!r}")
        _ = parts.port  # raises on a bad port
    except ValueError as exc:
        raise InvalidDomain(f"not a URL or domain: {exc}") from exc
    if not host:
        raise InvalidDomain("no host")
    return host.rstrip(".")


def _to_ascii(host: str) -> str:
    if host.isascii():
        return host.lower()
    try:
        import idna

        return idna.encode(host, uts46=True).decode("ascii")
    except (ImportError, UnicodeError, ValueError) as exc:
        raise InvalidDomain(f"invalid internationalised name: {exc}") from exc


def normalise_domain(item: str) -> str:
    """The lower-case ASCII host of ``item`` (a domain or URL); raises ``InvalidDomain``."""
    host = _to_ascii(_host_of(item))
    if parse_ip_literal(host) is not None or ":" in host:
        raise InvalidDomain("IP addresses are not accepted, give a domain name")
    if len(host) > 253:
        raise InvalidDomain("name longer than 253 characters")
    labels = host.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise InvalidDomain("invalid characters or empty label")
    parts = _extractor()(host)
    if not parts.suffix:
        raise InvalidDomain("not under a known public suffix")
    if not parts.domain:
        raise InvalidDomain("is a public suffix, not a registrable domain")
    return host


def normalise_domains(items: list[str]) -> tuple[list[str], list[BadEntry]]:
    """Normalise many inputs: (unique hosts in first-seen order, rejected entries)."""
    good: dict[str, None] = {}
    bad: list[BadEntry] = []
    for item in items:
        try:
            good.setdefault(normalise_domain(item), None)
        except InvalidDomain as exc:
            bad.append(BadEntry(input=item, reason=str(exc)))
    return list(good), bad


def registrable_domain(host: str) -> str:
    """``www.shop.acme.co.uk`` → ``acme.co.uk``; the host itself when it has no suffix."""
    parts = _extractor()(host)
    if parts.domain and parts.suffix:
        return f"{parts.domain}.{parts.suffix}"
    return host


def cc_region(host: str) -> str | None:
    """The ISO region of a country-code TLD (``de`` → ``DE``, ``uk`` → ``GB``), else ``None``."""
    suffix = _extractor()(host).suffix
    last = suffix.rsplit(".", 1)[-1] if suffix else ""
    if len(last) != 2 or not last.isalpha():
        return None
    if last in _GENERIC_CCTLDS:
        return None
    return {"uk": "GB", "eu": None}.get(last, last.upper())
