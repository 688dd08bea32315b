"""Which pages of a site to fetch after the home page: contact, about, imprint, legal."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from actors.scrape.domains import registrable_domain
from actors.scrape.extract import Link

#: (kind, words in link text, words in the URL path), in order of preference.
KINDS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("contact", ("contact", "kontakt", "contacto", "contatti", "contactez", "get in touch",
                 "お問い合わせ", "contato"),
     ("contact", "kontakt", "contacto", "contatti", "contato", "get-in-touch")),
    ("about", ("about", "über uns", "ueber uns", "who we are", "company", "unternehmen",
               "chi siamo", "qui sommes", "quienes somos", "over ons", "team"),
     ("about", "ueber-uns", "uber-uns", "unternehmen", "company", "chi-siamo",
      "qui-sommes", "quienes-somos", "over-ons", "team")),
    ("imprint", ("impressum", "imprint", "mentions légales", "mentions legales", "colophon",
                 "aviso legal", "note legali"),
     ("impressum", "imprint", "mentions-legales", "colofon", "aviso-legal", "note-legali")),
    ("legal", ("legal", "terms", "privacy", "datenschutz", "agb"),
     ("legal", "terms", "privacy", "datenschutz", "agb")),
)
_SKIP_EXT = re.compile(r"\.(pdf|jpe?g|png|gif|svg|webp|zip|docx?|xlsx?|pptx?|mp4|mp3)$", re.I)


def _kind(link: Link) -> int | None:
    text = link.text.lower()
    path = urlsplit(link.url).path.lower()
    for rank, (_, words, slugs) in enumerate(KINDS):
        if any(w in text for w in words) or any(s in path for s in slugs):
            return rank
    return None


def same_site(url: str, home: str) -> bool:
    host, home_host = urlsplit(url).hostname or "", urlsplit(home).hostname or ""
    return host == home_host or registrable_domain(host) == registrable_domain(home_host)


def choose_pages(home_url: str, links: list[Link], max_pages: int) -> list[str]:
    """Up to ``max_pages - 1`` URLs besides the home page, best kinds first, one per URL."""
    ranked: list[tuple[int, int, str]] = []
    seen = {home_url.rstrip("/")}
    for order, link in enumerate(links):
        key = link.url.rstrip("/")
        if key in seen or not same_site(link.url, home_url) or _SKIP_EXT.search(link.url):
            continue
        rank = _kind(link)
        if rank is not None:
            seen.add(key)
            ranked.append((rank, order, link.url))
    ranked.sort()
    # One page of each kind first (contact, about, imprint, legal), then the other candidates.
    firsts = {rank: url for rank, _, url in reversed(ranked)}
    order = [firsts[r] for r in sorted(firsts)]
    order += [url for _, _, url in ranked if url not in order]
    return order[: max(0, max_pages - 1)]
