"""The product's sku: an evidence-weighted choice among every identifier the page gives.

A shop's product identifier shows up in several independent places, each a *family*: a
labelled code on the page ("SKU: …", "Art.-Nr. …", "Código: …", "Код товара: …", "Ad # …",
``<span class="sku">``), structured data (``sku``, ``productID``; ``mpn`` apart), the page
URL, ``data-sku`` / ``data-product-id`` style attributes, hidden inputs and ``"sku": …`` /
``"productId": …`` in inline scripts (one family: one shop variable feeds them all), and plain
visible text. A candidate value scores the best weight it gets in each family, summed over
families, so independent agreement wins over one family repeating itself.

Only a code the page *declares* (labelled on the page or named ``sku`` / ``productID`` in
structured data) can be chosen; the URL, attributes and scripts corroborate. A visible labelled
code weighs most (it is what the shopper is shown as the product's number). A code with letters
that is part of the product's name is a model number and a known GTIN loses ties; prices,
dates, years, sizes and codes with words around them are no candidates. A page that declares
nothing gets the last number of five or more digits in its URL (``/p3897500``,
``?sku=1357247``), source ``url``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from lxml import etree
from lxml.html import HtmlElement

#: Labels that name the shop's own product number, in the languages shops commonly use.
_NO = r"(?:#|no\b\.?|nr\b\.?|number|code|id)"
_SKU_LABELS = "|".join((
    # English
    rf"sku\s*{_NO}?", "asin", "tcin",
    rf"(?:item|product|article|style|stock|ad|listing|deal)\s*{_NO}",
    r"product\s*ref(?:erence)?\b\.?", r"catalog(?:ue)?\s*(?:#|no\b\.?|number)",
    # German, Dutch, Scandinavian
    r"art(?:ikel|icle)?\.?\s*-?\s*(?:nr|no|nummer|number|code|#)\b\.?", "artikelnummer",
    r"best(?:\.|ell?)\s*-?\s*(?:nr\b\.?|nummer)", r"produ[ck]t\s*-?\s*(?:nr\b\.?|nummer)",
    r"anzeigen(?:nummer|-id)", "artikelcode", "productcode", r"varen(?:umme)?r\b\.?",
    # French, Spanish, Portuguese, Italian, Romanian
    r"r[ée]f[ée]rence(?:\s*(?:produit|article|produto|produkt))?",
    r"r[ée]f\.?\s*(?:produit|article)", r"refer[êe]ncia(?:\s*(?:do\s*)?produto)?",
    r"referencia(?:\s*(?:del\s*)?(?:producto|art[íi]culo))?",
    r"n[°ºo]\.?\s*(?:d['’]\s*|de\s*)?(?:article|art[íi]culo|refer[eê]ncia)", "riferimento",
    r"num[ée]ro\s*(?:d['’]\s*|de\s*)(?:article|produit)", r"code\s*(?:article|produit)",
    r"c[óo]d(?:igo|\.)?\s*(?:do|de|del)?\s*(?:produto|producto|art[íi]culo|artigo|item)",
    r"id\s*(?:do\s*)?produ(?:to|cto|it)", r"codice(?:\s*(?:articolo|prodotto))?",
    r"cod\.?\s*(?:art(?:icolo)?|prodotto)\b\.?", r"cod\s*produs",
    # Finnish, Polish, Czech, Hungarian, Turkish, Greek, Russian, Ukrainian
    "tuotenumero", "tuotekoodi", r"kod\s*(?:produktu|towaru)", r"nr\s*katalogowy",
    r"k[óo]d\s*produktu", r"katalogov[ée]\s*[čc][íi]slo", r"cikksz[áa]m", r"term[ée]kk[óo]d",
    r"[üu]r[üu]n\s*kodu", r"stok\s*kodu", r"κωδικ[όο]ς(?:\s*προϊόντος)?", "артикул",
    r"код\s*(?:товара|товару|продукта|изделия)",
    # Japanese, Chinese, Korean
    "商品番号", "商品コード", "品番", "管理番号", "货号", "商品编号", "商品编码",
    "상품번호", "상품코드", "딜번호", "품번",
))
#: Short words that also mean other things ("Art. 67" of a law, "Ref." of a letter): their
#: value must be at least five characters long.
_WEAK_LABELS = (r"style|anzeigen?|art\b\.?|r[ée]f\b\.?|rif\b\.?|c[óo]d(?:igo)?\b\.?|cod\b\.?|"
                r"k[óo]d|код")
_GTIN_LABELS = r"ean(?:-?13)?|gtin(?:-?1[34])?|upc|isbn(?:-?13)?|jan\s*(?:code|コード)"
_VALUE = r"(?=[A-Za-z._/-]*\d)[A-Za-z0-9][A-Za-z0-9._/-]{1,39}"
_LABELLED = re.compile(
    rf"(?<![^\W_])(?P<label>(?P<gtin>{_GTIN_LABELS})|(?:{_SKU_LABELS})|(?P<weak>{_WEAK_LABELS}))"
    rf"(?![^\W_])(?:[ \t]*\([^()\n]{{1,12}}\))?"  # "Item Number (DPCI)"
    rf"[ \t]*[:#.：№]?[ \t]*(?:\n[ \t]*[:#：]?[ \t]*){{0,2}}"
    rf"(?P<value>{_VALUE})(?![\w/-])", re.I)
#: ``class="sku"``, ``class="product-code"``: an element holding nothing but the code.
_CODE_CLASS = re.compile(
    r"(?:^|[\s_-])(?:sku|product[-_]?(?:code|id|number|ref)|item[-_]?(?:number|code|no)|"
    r"article[-_]?(?:number|no|nr|code)|art[-_]?nr|reference)(?:$|[\s_-])", re.I)
#: ``data-sku``, ``data-product-id``, ``productid``, ``data-pid``, ``data-adno``, hidden inputs.
_ID_NAME = re.compile(
    r"^(?:data-)?(?:(?:product|item|article|art|prod|offer|style|listing|ad|deal|goods)"
    r"[-_]?(?:sku|id|code|number|no|nr|num)|sku(?:[-_]?id)?|asin|pid|id[-_]product|"
    r"product[-_]?sku|ecomm[-_]prodid)$", re.I)
_SCRIPT_ID = re.compile(
    r"""(?<![\w$])(?P<key>sku|product_?id|prod_?id|product_?code|item_?id|item_?(?:number|no)|"""
    r"""article_?(?:id|number|no|code)|ecomm_prodid|content_ids|asin)["']?\s*[:=]\s*\[?\s*"""
    r"""(?P<q>["']?)(?P<value>[A-Za-z0-9][\w./-]{2,40})(?P=q)""", re.I)
#: Google Analytics enhanced ecommerce: ``"products": [{"name": …, "id": "…"``.
_GA_PRODUCT = re.compile(r"""["']?products["']?\s*:\s*\[\s*\{(?:[^{}\]]{0,400}?[,\s])?"""
                         r"""["']?id["']?\s*:\s*(["']?)([A-Za-z0-9][\w./-]{2,40})\1""")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\ufeff\xad]")
_HIDDEN_TAGS = frozenset({"script", "style", "noscript", "template", "nav", "footer", "svg",
                          "select", "option"})

#: Family weights: a value's score is the sum over families of its best weight in each.
WEIGHTS = {"label": 5.0, "other_label": 4.0, "code_class": 3.0, "later_label": 2.5, "sku": 3.0,
           "product_id": 2.0, "mpn": 1.0, "url": 2.0, "attribute": 1.0, "script_sku": 1.5,
           "script": 1.0, "shown": 1.0}
#: Attributes, hidden inputs and scripts are one family: one shop variable feeds them all.
FAMILY = {"label": "label", "other_label": "label", "code_class": "label",
          "later_label": "label", "sku": "markup", "product_id": "markup", "mpn": "mpn",
          "url": "url", "attribute": "hidden", "script_sku": "hidden", "script": "hidden",
          "shown": "shown"}


@dataclass
class Candidate:
    """One identifier value and the best weight each family gives it."""

    value: str
    families: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    forms: dict[str, str] = field(default_factory=dict)
    first: int = 1 << 30

    def add(self, kind: str, order: int, source: str | None = None,
            form: str | None = None) -> None:
        family = FAMILY[kind]
        if WEIGHTS[kind] > self.families.get(family, 0.0):
            self.families[family] = WEIGHTS[kind]
            self.sources[family] = source or kind
        self.forms.setdefault(family, form or self.value)
        self.first = min(self.first, order)

    def shown_form(self) -> str:
        """As the page shows it (``104.902.23``), else as markup, the URL or a script has it."""
        return next((self.forms[f] for f in ("markup", "label", "url", "hidden", "shown", "mpn")
                     if f in self.forms), self.value)

    @property
    def score(self) -> float:
        return sum(self.families.values())


def normal(value: str) -> str:
    """The key values are compared by: upper case, separators dropped (``104.902.23`` is
    ``10490223``)."""
    return re.sub(r"[\s./_-]+", "", value).upper()


def plausible(value: str) -> bool:
    """An identifier, not a price, date, year, size, lone word or code with words around it
    ("Ca304103-0000 Montre")."""
    v = value.strip()
    if not 3 <= len(v) <= 60 or not re.search(r"\d", v) or re.search(r"[<>{}]", v):
        return False
    words = v.split()
    if len(words) > 3 or (len(words) > 1 and any(w.isalpha() and len(w) > 2 for w in words)):
        return False
    if re.fullmatch(r"\d{1,3}", v) or re.fullmatch(r"(?:19|20)\d\d", v):
        return False
    if re.fullmatch(r"\d{1,6}[.,]\d{1,2}", v) or re.fullmatch(
            r"\d{1,2}([./-])\d{1,2}\1(?:\d\d){1,2}|\d{4}([./-])\d{1,2}\2\d{1,2}", v):
        return False
    return not re.fullmatch(r"\d+(?:[.,]\d+)?\s*(?:mm|cm|m|ml|l|g|kg|w|v|gb|tb|%)", v, re.I)


class Evidence:
    """Candidates gathered from one page, keyed by their normalised value."""

    def __init__(self) -> None:
        self.candidates: dict[str, Candidate] = {}
        self.gtins: set[str] = set()
        self.url_number: str | None = None
        self.order = 0

    def add(self, value: object, kind: str, source: str | None = None) -> None:
        if not isinstance(value, str | int) or isinstance(value, bool):
            return
        raw = re.sub(r"^(?:sku|mpn|gtin\d*|ean|isbn|upc)\s*:\s*", "", str(value).strip(),
                     flags=re.I)
        raw = raw.strip().strip(".,;:")
        if not plausible(raw):
            return
        key = normal(raw)
        self.order += 1
        self.candidates.setdefault(key, Candidate(raw)).add(kind, self.order, source, raw)


def visible_text(tree: HtmlElement, limit: int = 400_000) -> str:
    """The page's visible text nodes outside navigation and footers, one per line."""
    parts: list[str] = []
    size = 0
    body = tree.find(".//body")
    walker = etree.iterwalk(body if body is not None else tree, events=("start", "end"))
    for event, el in walker:
        if event == "start":
            tag = el.tag.lower() if isinstance(el.tag, str) else ""
            if tag in _HIDDEN_TAGS or not tag:
                walker.skip_subtree()
                continue
            chunk = el.text
        else:
            chunk = el.tail
        if chunk and (text := " ".join(_INVISIBLE.sub("", chunk).split())):
            parts.append(text)
            size += len(text) + 1
            if size > limit or len(parts) > 60_000:
                break
    return "\n".join(parts)


def labelled(evidence: Evidence, text: str) -> None:
    """``SKU: 123``, ``Art.-Nr. 123``, ``Код товара: 123``, ``<th>Item #</th><td>123</td>``;
    the first code labelled weighs most, later ones are often related products'."""
    seen: dict[str, str] = {}  # label word → the first value it labelled
    for match in list(_LABELLED.finditer(text))[:200]:
        value = match.group("value").rstrip(".-/")
        if match.group("gtin"):
            evidence.gtins.add(normal(value))
            continue
        if match.group("weak") and len(value) < 5:
            continue
        word = re.sub(r"\W+", "", match.group("label").lower())
        if not seen:
            kind = "label"
        elif normal(value) in seen.values():
            kind = "label" if normal(value) == next(iter(seen.values())) else "other_label"
        else:  # the same word again for another code: a related product's tile
            kind = "later_label" if word in seen else "other_label"
        seen.setdefault(word, normal(value))
        evidence.add(value, kind, "page")


def _outside(el: HtmlElement) -> bool:
    return any(a.tag in ("nav", "footer", "header") for a in el.iterancestors())


def elements(evidence: Evidence, tree: HtmlElement) -> None:
    """Outside the header, navigation and footer: ``data-sku="…"``, ``data-product-id="…"``,
    ``<input type="hidden" name="sku">`` (hidden family), and ``<span class="sku">123</span>``,
    a visible element named after the code it holds (label family)."""
    body = tree.find(".//body")
    first: str | None = None
    for count, el in enumerate((body if body is not None else tree).iter()):
        if count > 50_000:
            break
        if not isinstance(el.tag, str):
            continue
        for name, value in el.items():
            if _ID_NAME.match(name) and not _outside(el):
                evidence.add(value, "attribute", "page")
        if el.tag == "input":
            if (el.get("type") or "").lower() == "hidden" and _ID_NAME.match(
                    el.get("name") or el.get("id") or "") and not _outside(el):
                evidence.add(el.get("value") or "", "attribute", "page")
        elif (el.get("class") or el.get("id")) and len(el) < 3 and _CODE_CLASS.search(
                f"{el.get('class') or ''} {el.get('id') or ''}") and el.tag not in _HIDDEN_TAGS:
            text = " ".join(_INVISIBLE.sub("", el.text_content() or "").split())
            if re.fullmatch(_VALUE, text) and not _outside(el):
                # Only the first such element speaks for the product; later ones are tiles'.
                first = first or normal(text)
                evidence.add(text, "code_class" if normal(text) == first else "attribute", "page")


def scripts(evidence: Evidence, tree: HtmlElement) -> None:
    """``"sku": "…"``, ``"productId": 123``, ``content_ids: ['…']`` in inline scripts."""
    seen = 0
    for script in tree.xpath("//script[not(@src)]/text()")[:300]:
        for match in _SCRIPT_ID.finditer(str(script)[:300_000]):
            key = match.group("key").lower()
            evidence.add(match.group("value"), "script_sku" if key == "sku" else "script",
                         "script")
            seen += 1
            if seen > 2000:
                return
        for match in _GA_PRODUCT.finditer(str(script)[:300_000]):
            evidence.add(match.group(2), "script", "script")


def _bounded(value: str, haystack: str) -> bool:
    """``value`` in ``haystack`` as a whole token (digits may touch letters: ``p3897500``)."""
    edge = r"\d" if value.isdigit() else r"[^\W_]"
    return re.search(rf"(?<!{edge}){re.escape(value)}(?!{edge})", haystack, re.I) is not None


def url_pieces(page_url: str) -> str:
    try:
        parts = urlsplit(page_url)
    except ValueError:
        return ""
    return " ".join([*(unquote(s) for s in parts.path.split("/")), unquote(parts.query)])


def from_url(evidence: Evidence, page_url: str) -> None:
    """Corroborate candidates found in the URL; keep the URL's last number of five or more
    digits (path and query: ``/p/3897500``, ``?sku=1357247``) for pages that declare none."""
    pieces = url_pieces(page_url)
    compact = re.sub(r"[.,_]+", "", pieces)
    for key, candidate in list(evidence.candidates.items()):
        if len(key) >= 4 and (_bounded(candidate.value, pieces) or _bounded(key, compact)):
            candidate.add("url", candidate.first, "url")
    runs = re.findall(r"(?<!\d)\d{5,40}(?!\d)", pieces)
    evidence.url_number = runs[-1] if runs else None


def shown(evidence: Evidence, text: str) -> None:
    """A value the shopper can see somewhere on the page."""
    for candidate in sorted(evidence.candidates.values(), key=lambda c: -c.score)[:40]:
        if "label" not in candidate.families and _bounded(candidate.value, text):
            candidate.add("shown", 1 << 29)


def choose(evidence: Evidence, names: list[str]) -> Candidate | None:
    """The best-scoring candidate, the earliest found on a tie. A code with letters that is
    part of the product's name is a model number, not the shop's sku; a known GTIN loses a
    tie to the shop's own number."""
    lowered = [n.lower() for n in names if n]

    def score(c: Candidate) -> float:
        s = c.score
        if re.search(r"[^\W\d_]", c.value) and any(_bounded(c.value, n) for n in lowered):
            s -= 3.0
        if normal(c.value) in evidence.gtins:
            s -= 1.0
        return s

    declared = [c for c in evidence.candidates.values() if {"label", "markup"} & c.families.keys()]
    ranked = sorted(declared, key=lambda c: (-score(c), c.first))
    if ranked and score(ranked[0]) >= 2.0:
        return ranked[0]
    if evidence.url_number and plausible(evidence.url_number):
        return Candidate(evidence.url_number, {"url": WEIGHTS["url"]}, {"url": "url"})
    return None


def product_sku(markup: list[tuple[str, tuple[object, str]]], gtin: object,
                tree: HtmlElement, page_url: str,
                names: list[str]) -> tuple[str, str] | None:
    """(sku, its source) from the product's markup identifiers (``("sku" | "product_id" |
    "mpn", (value, syntax))``), its GTIN and the page itself; the source is the syntax, ``page``,
    ``script`` or ``url`` of the family that weighs most for the chosen value."""
    evidence = gather(markup, gtin, tree, page_url)
    best = choose(evidence, names)
    if best is None:
        return None
    family = max(best.families, key=lambda f: best.families[f])
    return best.shown_form()[:100], best.sources[family]


def gather(markup: list[tuple[str, tuple[object, str]]], gtin: object, tree: HtmlElement,
           page_url: str) -> Evidence:
    """Every identifier candidate on the page, with the families that give it."""
    evidence = Evidence()
    text = visible_text(tree)
    for kind, (value, source) in markup:
        evidence.add(value, kind, source)
    if isinstance(gtin, str | int):
        evidence.gtins.add(normal(str(gtin)))
    labelled(evidence, text)
    elements(evidence, tree)
    scripts(evidence, tree)
    from_url(evidence, page_url)
    shown(evidence, text)
    return evidence
