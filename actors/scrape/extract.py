"""Everything one page tells about a company. Pure and total: ``extract_page(html, url)``
always returns a ``PageData``; a stage that fails (a parser bug, a malformed value) is recorded
in ``PageData.errors`` with its stage and exception type, and the other stages still run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml.html import HtmlElement
from pydantic import BaseModel, Field

from actors.scrape import contacts, orgs, phones, schema_fields, structured
from actors.scrape.links import Link, host_of, http_url, join, links, social_links
from actors.scrape.orgs import Mention
from actors.scrape.products import Product
from actors.scrape.schema_fields import Address

__all__ = ["Link", "PageData", "PageError", "extract_page", "main_text_of", "social_links"]
_TEXT_XPATH = "//body//text()[not(ancestor::script) and not(ancestor::style)" \
              " and not(ancestor::noscript) and not(ancestor::template)]"


class PageError(BaseModel):
    """One extraction stage that failed on this page; the others still ran."""

    stage: str
    type: str
    message: str

    @classmethod
    def of(cls, stage: str, exc: BaseException) -> PageError:
        return cls(stage=stage, type=type(exc).__name__, message=_clean(str(exc))[:300])


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
    rdfa: list[Any] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list)  # the site's own organisation only
    legal_names: list[str] = Field(default_factory=list)
    mentions: list[Mention] = Field(default_factory=list)
    logos: list[str] = Field(default_factory=list)
    images: list[str] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    guessed_regions: dict[str, str] = Field(default_factory=dict)  # phone → guessed region
    addresses: list[Address] = Field(default_factory=list)
    social: list[str] = Field(default_factory=list)
    product: Product | None = None
    main_text: str | None = None
    links: list[Link] = Field(default_factory=list)
    errors: list[PageError] = Field(default_factory=list)


def _clean(value: str) -> str:
    """Lone surrogates (invalid in UTF-8 and JSON) replaced."""
    return value.encode("utf-8", errors="replace").decode("utf-8")


def _first_text(tree: HtmlElement, xpath: str) -> str | None:
    for value in tree.xpath(xpath):
        s = " ".join(str(value).split())
        if s:
            return s
    return None


def _logo_imgs(tree: HtmlElement, base: str) -> list[str]:
    out = []
    for img in tree.xpath("//img[contains(translate(concat(@class,' ',@id,' ',@alt,' ',@src),"
                          "'LOGO','logo'),'logo')]")[:3]:
        src = img.get("src") or img.get("data-src")
        if src and not src.startswith("data:") and (url := http_url(base, src)):
            out.append(url)
    return out


class _Run:
    """One extraction: the page being filled and the stage guard."""

    def __init__(self, html: str, url: str) -> None:
        self.html, self.url = html, url
        self.page = PageData(url=url)
        self.tree: HtmlElement | None = None
        self.base = url if join(url, "") is not None else ""
        self.text = ""
        self.entities: list[structured.Entity] = []
        self.schema_phones: list[str] = []

    def stage(self, name: str, step: Callable[[], None]) -> None:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - recorded on the page, the others go on
            self.page.errors.append(PageError.of(name, exc))

    def parse(self) -> None:
        self.tree = structured.parse_tree(self.html)
        href = _first_text(self.tree, "//base/@href")
        self.base = (join(self.base, href) if href else None) or self.base
        self.text = " ".join(" ".join(str(t).split()) for t in self.tree.xpath(_TEXT_XPATH))

    def metadata(self) -> None:
        page, tree = self.page, self.tree
        page.title = _first_text(tree, "//title/text()")
        page.description = _first_text(tree, "//meta[@name='description' or "
                                             "@name='Description']/@content")
        page.lang = _first_text(tree, "/html/@lang | /html/@xml:lang")
        self.stage("json-ld", self.jsonld)
        self.stage("microdata", lambda: setattr(page, "microdata",
                                                structured.microdata(tree, self.base)))
        self.stage("opengraph", self.opengraph)
        self.stage("rdfa", lambda: setattr(page, "rdfa", structured.rdfa(self.html, self.base,
                                                                           tree)))
        self.entities = list(structured.typed_nodes(page.jsonld, page.microdata, page.rdfa))

    def jsonld(self) -> None:
        self.page.jsonld, self.page.jsonld_errors = structured.jsonld(self.tree)

    def opengraph(self) -> None:
        page = self.page
        page.opengraph = structured.opengraph(self.tree, self.base)
        page.og = structured.og_properties(page.opengraph)
        page.title = page.title or page.og.get("og:title")
        page.description = page.description or page.og.get("og:description")
        page.site_name = page.og.get("og:site_name")

    def organisation(self) -> None:
        page = self.page
        host = host_of(self.url)
        site = orgs.site_organisation(self.entities, host)
        own = orgs.own_nodes(self.entities, site, host)
        if site is not None:
            f = schema_fields.organization_fields(site, self.base)
            page.names = [f["name"]] if f["name"] else []
            page.legal_names = [f["legal_name"]] if f["legal_name"] else []
        for node in own:
            f = schema_fields.organization_fields(node, self.base)
            page.logos += f["logos"]
            page.images += f["images"]
            page.emails += f["emails"]
            self.schema_phones += f["phones"]
            page.addresses += f["addresses"]
            page.social += social_links(f["same_as"])
        page.mentions = orgs.mentions(self.entities, own)[:50]

    def media(self) -> None:
        page = self.page
        page.logos += [u for k, v in page.og.items() if k == "og:logo"
                       and (u := http_url(self.base, v))]
        page.logos += _logo_imgs(self.tree, self.base)
        if (image := page.og.get("og:image")) and (url := http_url(self.base, image)):
            page.images.append(url)

    def outlinks(self) -> None:
        self.page.links = links(self.tree, self.base)
        self.page.social += social_links([link.url for link in self.page.links])

    def contacts(self) -> None:
        page = self.page
        page.emails = contacts.emails_from(self.tree, self.text) + [
            e for raw in page.emails if (e := contacts.clean_email(raw.removeprefix("mailto:")))]
        countries = [c for a in page.addresses if (c := a.country_code())]
        found = phones.find_phones(self.tree, self.text, host=host_of(self.url),
                                   address_countries=countries, lang=page.lang,
                                   schema_numbers=self.schema_phones)
        page.phones, page.guessed_regions, page.region = found.numbers, found.guessed, found.region

    def product(self) -> None:
        from actors.scrape.product_page import page_product

        titles = [t for t in (self.page.og.get("og:title"), self.page.title,
                              _first_text(self.tree, "//h1//text()")) if t]
        self.page.product = page_product(self.entities, self.tree, self.url, titles,
                                         self.page.og.get("og:type"))
        if self.page.product is not None:
            self.page.images += self.page.product.images[:5]


def extract_page(html: str | bytes, url: str, *, main_text: bool = True) -> PageData:
    """Parse ``html`` (fetched from ``url``) and gather every company and product field.

    Never raises: a failing stage is recorded in ``errors`` and the page keeps the rest."""
    html = _clean(html.decode("utf-8", errors="replace") if isinstance(html, bytes) else html)
    run = _Run(html, _clean(url))
    run.stage("parse", run.parse)
    if run.tree is None:
        return run.page
    for name, step in (("metadata", run.metadata), ("organisation", run.organisation),
                       ("media", run.media), ("links", run.outlinks), ("contacts", run.contacts),
                       ("product", run.product)):
        run.stage(name, step)
    run.stage("dedupe", lambda: _dedupe(run.page))
    if main_text:
        run.stage("main_text", lambda: setattr(run.page, "main_text", main_text_of(html)))
    return run.page


def _dedupe(page: PageData) -> None:
    for name in ("names", "legal_names", "logos", "images", "emails", "phones", "social"):
        setattr(page, name, list(dict.fromkeys(getattr(page, name))))
    page.addresses = list({a.text: a for a in page.addresses}.values())


def main_text_of(html: str) -> str | None:
    """The main text of the page (trafilatura, default options, no comments)."""
    import trafilatura

    return trafilatura.extract(html, include_comments=False)
