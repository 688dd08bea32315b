"""Phone numbers of a page: ``tel:`` links, schema.org ``telephone`` and validated text matches.

Text is only trusted with context. phonenumbers' own matcher finds the candidates; a candidate
is kept when it is written internationally (``+49 …``, ``0049 …``), follows a label (Tel,
Phone, Fax, Telefon, ☎ …) or has a bracketed area code, and is never kept when it is shaped
like a date (``5.12.2022``, ``2022-12-05``), a year range, an amount (``1.234.567``,
``12,50``) or a piece of a longer dotted number.

Numbers written nationally need a region: the ccTLD, the address's country, ``<html lang>``,
or the country most of the page's international numbers share. A national ``tel:`` link with
none of these is still kept, parsed with the most likely region (the first in a fixed order of
regions where it is a valid number) and reported in ``guessed``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import unquote

from lxml.html import HtmlElement

from actors.scrape.domains import cc_region

MAX_TEXT = 30_000
_LABEL = re.compile(
    r"(?:\b(?:tel|tél|telefon|telephone|téléphone|teléfono|telefone|telefoon|telefono|phone|"
    r"ph|fon|fax|telefax|mobil|mobile|mob|handy|cell|call|hotline|whatsapp|ruf|rufnummer|"
    r"tlf|puhelin|tfn|звоните|телефон|тел)\b|電話|☎|📞|✆|☏|\b[TFMP]\s*[.:])", re.I)
_LABEL_WINDOW = 32
_DATE = re.compile(r"^\(?(\d{1,4})\s?([./-])\s?(\d{1,2})\s?\2\s?(\d{2,4})\)?$")
_MONTH_YEAR = re.compile(r"^(?:0?[1-9]|1[0-2])\s?[./-]\s?(?:19|20)\d\d$")
_YEARS = re.compile(r"^(?:19|20)\d\d\s?[-–/]\s?(?:19|20)?\d\d$")
_AMOUNT = re.compile(r"^\d{1,3}(?:([.,'])\d{3})(?:\1\d{3})*(?:[.,]\d{1,2})?$|^\d+[.,]\d{1,2}$")
_BRACKETED = re.compile(r"^\(\d{2,5}\)\s?\d")
_CURRENCY = set("$€£¥₹₽₩₺%")
_LANG_REGION = {"ja": "JP", "de": "DE", "it": "IT", "fr": "FR", "es": "ES", "nl": "NL",
                "pl": "PL", "sv": "SE", "da": "DK", "fi": "FI", "pt": "PT", "cs": "CZ",
                "ko": "KR", "zh": "CN", "nb": "NO", "no": "NO", "hu": "HU", "el": "GR"}
#: Where a national number with no other hint most likely comes from, in order.
LIKELY_REGIONS = ("US", "GB", "DE", "FR", "IN", "CA", "AU", "IT", "ES", "NL", "BR", "MX",
                  "JP", "PL", "CH", "AT", "BE", "SE", "RU", "TR", "KR", "CN", "IE", "NZ", "ZA",
                  "DK", "NO", "FI", "PT", "CZ", "AR", "CO", "CL", "SG", "HK", "IL", "AE", "UA")
GUESSED_SOURCES = frozenset({"numbers", "guess"})


class Phones(NamedTuple):
    numbers: list[str]  # E.164, tel: links first, then text, then schema.org
    guessed: dict[str, str]  # number → region it was parsed with, when that region was guessed
    region: str | None
    region_source: str | None  # cctld | address | lang | numbers


def region_hint(lang: str | None) -> str | None:
    """A region from ``<html lang>``: ``de-CH`` → ``CH``, ``ja`` → ``JP``, ``en`` → ``None``."""
    if not lang:
        return None
    parts = re.split(r"[-_]", lang.strip())
    if len(parts) > 1 and len(parts[1]) == 2 and parts[1].isalpha():
        return parts[1].upper()
    return _LANG_REGION.get(parts[0].lower())


def _parse(raw: str, region: str | None) -> object | None:
    import phonenumbers

    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _e164(number: object) -> str:
    import phonenumbers

    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def to_e164(raw: str, region: str | None) -> str | None:
    number = _parse(raw[:64], region)
    return _e164(number) if number is not None else None


def is_international(raw: str) -> bool:
    return raw.lstrip(" (").startswith(("+", "00"))


def tel_hrefs(tree: HtmlElement) -> list[str]:
    """The raw numbers of ``tel:`` / ``callto:`` links."""
    out = []
    for el in tree.iter("a", "area"):
        href = (el.get("href") or "").strip()
        if href.lower().startswith(("tel:", "callto:")):
            raw = unquote(href.split(":", 1)[1]).lstrip("/").split(";", 1)[0].strip()
            if raw:
                out.append(raw[:64])
    return out


def is_date_shaped(raw: str) -> bool:
    """``5.12.2022``, ``2022-12-05``, ``12/05/22``, ``12.2022``, ``2019-2022``."""
    s = raw.strip()
    if _MONTH_YEAR.match(s) or _YEARS.match(s):
        return True
    m = _DATE.match(s)
    if not m:
        return False
    a, b, c = (int(m.group(i)) for i in (1, 3, 4))
    year_last = len(m.group(4)) == 2 or 1900 <= c <= 2099
    year_first = len(m.group(1)) == 4 and 1900 <= a <= 2099
    day_month = min(a, b) >= 1 and ((a <= 31 and b <= 12) or (a <= 12 and b <= 31))
    return (year_last and day_month) or (year_first and 1 <= b <= 12 and 1 <= c <= 31)


def is_number_shaped(raw: str) -> bool:
    """Amounts and counts: ``1.234.567``, ``12,50``, ``1,299.00``."""
    return bool(_AMOUNT.match(raw.strip()))


def _glued(text: str, start: int, end: int) -> bool:
    """The match is a piece of a longer token: ``1.`` before it, ``.5`` or ``€`` after it."""
    before, after = text[max(0, start - 2):start], text[end:end + 2]
    if (len(before) == 2 and before[0].isdigit() and before[1] in "./,-") or (
            len(after) == 2 and after[0] in "./,-" and after[1].isdigit()):
        return True
    near = text[max(0, start - 2):start] + text[end:end + 2]
    return any(c in _CURRENCY for c in near)


def labelled(text: str, start: int) -> bool:
    """A label (Tel, Fax, ☎ …) shortly before ``start``, with no other digits in between."""
    window = text[max(0, start - _LABEL_WINDOW):start]
    last = None
    for last in _LABEL.finditer(window):  # noqa: B007 - the last label is the one that counts
        pass
    return last is not None and not any(c.isdigit() for c in window[last.end():])


def text_numbers(text: str, region: str | None) -> list[tuple[str, bool]]:
    """``(E.164, written internationally)`` for text numbers that pass the context and shape
    checks."""
    import phonenumbers

    text = text[:MAX_TEXT]
    out = []
    for match in phonenumbers.PhoneNumberMatcher(text, region or "ZZ",
                                                 leniency=phonenumbers.Leniency.VALID):
        raw = match.raw_string
        if is_date_shaped(raw) or _glued(text, match.start, match.end):
            continue
        has_label = labelled(text, match.start)
        if is_number_shaped(raw) and not has_label:
            continue
        if (international := is_international(raw)) or has_label or _BRACKETED.match(raw):
            out.append((_e164(match.number), international))
    return out


def guess_region(raw: str, hints: Iterable[str] = ()) -> str | None:
    """The first region (hints, then :data:`LIKELY_REGIONS`) that makes ``raw`` a valid
    number; ``None`` when none does (a number valid only somewhere unlikely is more likely
    not a phone number at all)."""
    for region in dict.fromkeys([*hints, *LIKELY_REGIONS]):
        if _parse(raw[:64], region) is not None:
            return region
    return None


def _numbers_region(raws: Iterable[str]) -> str | None:
    import phonenumbers

    counts = Counter(phonenumbers.region_code_for_number(n) for raw in raws
                     if is_international(raw) and (n := _parse(raw[:64], None)) is not None)
    counts.pop(None, None)
    counts.pop("001", None)
    return counts.most_common(1)[0][0] if counts else None


def page_region(host: str, address_countries: list[str], lang: str | None,
                raws: Iterable[str]) -> tuple[str | None, str | None]:
    """(region, where it came from) for national-format numbers on the page."""
    for source, region in (("cctld", cc_region(host) if host else None),
                           ("address", next(iter(address_countries), None)),
                           ("lang", region_hint(lang))):
        if region:
            return region, source
    region = _numbers_region(raws)
    return (region, "numbers") if region else (None, None)


def find_phones(tree: HtmlElement, text: str, *, host: str, address_countries: list[str],
                lang: str | None, schema_numbers: list[str]) -> Phones:
    tels = tel_hrefs(tree)
    intl_text = [number for number, _ in text_numbers(text, None)]
    region, source = page_region(host, address_countries, lang,
                                 [*tels, *schema_numbers, *intl_text])
    guessed: dict[str, str] = {}

    def parsed(raws: list[str]) -> list[str]:
        out = []
        for raw in raws:
            use, from_ = region, source
            if region is None and not is_international(raw):
                use, from_ = guess_region(raw), "guess"
            if (number := to_e164(raw, use)) is not None:
                out.append(number)
                if use and from_ in GUESSED_SOURCES and not is_international(raw):
                    guessed.setdefault(number, use)
        return out

    in_text = []
    for number, international in text_numbers(text, region) if region else []:
        in_text.append(number)
        if not international and source in GUESSED_SOURCES:
            guessed.setdefault(number, region)
    numbers = list(dict.fromkeys([*parsed(tels), *(in_text or intl_text),
                                  *parsed(schema_numbers)]))
    return Phones(numbers, {n: r for n, r in guessed.items() if n in numbers}, region, source)
