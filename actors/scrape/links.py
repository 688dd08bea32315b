"""Links of a page made absolute without ever raising: a malformed ``href`` is skipped.

``urljoin`` raises ``ValueError`` on hrefs such as ``http://[ccpa-preferences]`` (an invalid
IPv6 literal) or ``http://host:port`` with a non-numeric port as soon as anything touches the
netloc; :func:`join` answers ``None`` for them instead.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement
from pydantic import BaseModel

SOCIAL_HOSTS = {
    "facebook.com": "facebook", "twitter.com": "twitter", "x.com": "twitter",
    "linkedin.com": "linkedin", "instagram.com": "instagram", "youtube.com": "youtube",
    "xing.com": "xing", "github.com": "github", "tiktok.com": "tiktok",
    "pinterest.com": "pinterest", "vimeo.com": "vimeo", "threads.net": "threads",
}
_SHARE_MARKERS = ("sharer", "/share", "intent/", "shareArticle", "/dialog/", "/plugins/",
                  "status=")
_SKIP_SCHEMES = ("#", "mailto:", "tel:", "javascript:", "data:")


class Link(BaseModel):
    url: str
    text: str = ""


def join(base: str, href: str) -> str | None:
    """``href`` made absolute against ``base``; ``None`` when either cannot be parsed."""
    try:
        absolute = urljoin(base, href.strip())
        parts = urlsplit(absolute)
        _ = parts.hostname, parts.port  # both raise ValueError on a malformed netloc
    except ValueError:
        return None
    return absolute


def http_url(base: str, href: str) -> str | None:
    """An absolute http(s) URL (fragment dropped), or ``None``."""
    absolute = join(base, href)
    if absolute is None or not absolute.startswith(("http://", "https://")):
        return None
    return absolute.split("#", 1)[0]


def host_of(url: str) -> str:
    """The lower-case host of ``url``; ``""`` when it has none or cannot be parsed."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def links(tree: HtmlElement, base: str) -> list[Link]:
    out: list[Link] = []
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.lower().startswith(_SKIP_SCHEMES):
            continue
        if (absolute := http_url(base, href)) is not None:
            label = " ".join((a.text_content() or "").split()) or a.get("title") or ""
            out.append(Link(url=absolute, text=label[:200]))
    return out


def social_links(hrefs: list[str]) -> list[str]:
    out: list[str] = []
    for href in hrefs:
        try:
            parts = urlsplit(href)
            host = (parts.hostname or "").removeprefix("www.").removeprefix("m.")
        except ValueError:
            continue
        host = ".".join(host.split(".")[-2:]) if host.endswith("linkedin.com") else host
        if host in SOCIAL_HOSTS and parts.path.strip("/") and not any(
                m in href for m in _SHARE_MARKERS):
            out.append(href.split("#", 1)[0])
    return list(dict.fromkeys(out))
