"""Everything one page tells about a company. Pure: ``extract_page(html, url) -> PageData``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement
from pydantic import BaseModel, Field

from actors.scrape import contacts, schema_fields, structured
from actors.scrape.domains import cc_region
from actors.scrape.schema_fields import Address, Product

SOCIAL_HOSTS = {
    "facebook.com": "facebook", "twitter.com": "twitter", "x.com": "twitter",
    "linkedin.com": "linkedin", "instagram.com": "instagram", "youtube.com": "youtube",
    "xing.com": "xing", "github.com": "github", "tiktok.com": "tiktok",
    "pinterest.com": "pinterest", "vimeo.com": "vimeo", "threads.net": "threads",
}
_SHARE_MARKERS = ("sharer", "/share", "intent/", "shareArticle", "/dialog/", "/plugins/",
                  "status=")
_TEXT_XPATH = "//body//text()[not(ancestor::script) and not(ancestor::style)" \
              " and not(ancestor::noscript) and not(ancestor::template)]"


class Link(BaseModel):
    url: str
    text: str = ""


class PageData(BaseModel):
    url: str
    title: str | None = None
    description: str | None = None
    site_name: str | None = None
    lang: str | None = None
    region: str | None = None
    og: dict[str, str] = Field(default_factory=dict)
    jsonld: list[Any] = Field(default_factory=list)
    jsonld_errors: list[str] = Field(default_factory=list)
    microdata: list[Any] = Field(default_factory=list)
    opengraph: list[Any] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list)
    legal_names: list[str] = Field(default_factory=list)
    logos: list[str] = Field(default_factory=list)
    images: list[str] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    addresses: list[Address] = Field(default_factory=list)
    social: list[str] = Field(default_factory=list)
    products: list[Product] = Field(default_factory=list)
    main_text: str | None = None
    links: list[Link] = Field(default_factory=list)


def _first_text(tree: HtmlElement, xpath: str) -> str | None:
    for value in tree.xpath(xpath):
        s = " ".join(str(value).split())
        if s:
            return s
    return None


def social_links(hrefs: list[str]) -> list[str]:
    out: list[str] = []
    for href in hrefs:
        parts = urlsplit(href)
        host = (parts.hostname or "").removeprefix("www.").removeprefix("m.")
        host = ".".join(host.split(".")[-2:]) if host.endswith("linkedin.com") else host
        if host in SOCIAL_HOSTS and parts.path.strip("/") and not any(
                m in href for m in _SHARE_MARKERS):
            out.append(href.split("#", 1)[0])
    return list(dict.fromkeys(out))


def _links(tree: HtmlElement, base: str) -> list[Link]:
    links: list[Link] = []
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        absolute = urljoin(base, href)
        if absolute.startswith(("http://", "https://")):
            label = " ".join((a.text_content() or "").split()) or a.get("title") or ""
            links.append(Link(url=absolute.split("#", 1)[0], text=label[:200]))
    return links


def _logo_imgs(tree: HtmlElement, base: str) -> list[str]:
    out = []
    for img in tree.xpath("//img[contains(translate(concat(@class,' ',@id,' ',@alt,' ',@src),"
                          "'LOGO','logo'),'logo')]")[:3]:
        src = img.get("src") or img.get("data-src")
        if src and not src.startswith("data:"):
            out.append(urljoin(base, src.strip()))
    return out


def _schema(page: PageData, base: str) -> None:
    for node in structured.entities(page.jsonld, page.microdata):
        if schema_fields.is_org(node):
            f = schema_fields.organization_fields(node, base)
            page.names += [f["name"]] if f["name"] else []
            page.legal_names += [f["legal_name"]] if f["legal_name"] else []
            page.logos += f["logos"]
            page.images += f["images"]
            page.emails += f["emails"]
            page.phones += f["phones"]
            page.addresses += f["addresses"]
            page.social += social_links(f["same_as"])
        elif schema_fields.is_product(node):
            page.products.append(product := schema_fields.product_fields(node, base))
            page.images += product.images


def _region(page: PageData) -> str | None:
    host = urlsplit(page.url).hostname or ""
    for address in page.addresses:
        if code := address.country_code():
            return cc_region(host) or code
    return cc_region(host) or contacts.region_hint(page.lang)


def _metadata(page: PageData, tree: HtmlElement, base: str) -> None:
    page.jsonld, page.jsonld_errors = structured.jsonld(tree)
    page.microdata = structured.microdata(tree, base)
    page.opengraph = structured.opengraph(tree, base)
    page.og = structured.og_properties(page.opengraph)
    page.title = _first_text(tree, "//title/text()") or page.og.get("og:title")
    page.description = _first_text(tree, "//meta[@name='description' or @name='Description']"
                                         "/@content") or page.og.get("og:description")
    page.site_name = page.og.get("og:site_name")
    page.lang = _first_text(tree, "/html/@lang | /html/@xml:lang")


def extract_page(html: str, url: str, *, main_text: bool = True) -> PageData:
    """Parse ``html`` (fetched from ``url``) and gather every company-related field."""
    tree = structured.parse_tree(html)
    base = _first_text(tree, "//base/@href") or url
    base = urljoin(url, base)
    page = PageData(url=url)
    _metadata(page, tree, base)
    _schema(page, base)
    page.logos += [urljoin(base, v) for k, v in page.og.items() if k == "og:logo"]
    page.logos += _logo_imgs(tree, base)
    if image := page.og.get("og:image"):
        page.images.append(urljoin(base, image))
    page.links = _links(tree, base)
    page.social += social_links([link.url for link in page.links])
    page.region = _region(page)
    text = " ".join(" ".join(str(t).split()) for t in tree.xpath(_TEXT_XPATH))
    page.emails = contacts.emails_from(tree, text) + [
        e for raw in page.emails if (e := contacts.clean_email(raw.removeprefix("mailto:")))]
    page.phones = contacts.phones_from(tree, text, page.region) + [
        p for raw in page.phones if (p := contacts.to_e164(raw, page.region))]
    _dedupe(page)
    if main_text:
        page.main_text = main_text_of(html)
    return page


def _dedupe(page: PageData) -> None:
    for name in ("names", "legal_names", "logos", "images", "emails", "phones", "social"):
        setattr(page, name, list(dict.fromkeys(getattr(page, name))))
    page.addresses = list({a.text: a for a in page.addresses}.values())


def main_text_of(html: str) -> str | None:
    """The main text of the page (trafilatura, default options, no comments)."""
    import trafilatura

    return trafilatura.extract(html, include_comments=False)
