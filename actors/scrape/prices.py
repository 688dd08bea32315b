"""Prices as ``Decimal`` and currencies as ISO 4217 codes, from markup values and visible text."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

#: Active ISO 4217 codes (2024), plus RUR, which Russian shops still publish for RUB.
_CODES = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH
UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
"""
ISO_4217 = frozenset(_CODES.split())
ALIASES = {"RUR": "RUB"}
#: Visible symbols and words → the codes they can stand for, most likely first.
SYMBOLS: dict[str, tuple[str, ...]] = {
    "€": ("EUR",), "£": ("GBP",), "¥": ("JPY", "CNY"), "₹": ("INR",), "₽": ("RUB",),
    "руб": ("RUB",), "р.": ("RUB",), "₩": ("KRW",), "원": ("KRW",), "₺": ("TRY",),
    "tl": ("TRY",), "₴": ("UAH",), "грн": ("UAH",), "zł": ("PLN",), "kč": ("CZK",),
    "kr": ("SEK", "NOK", "DKK", "ISK"), "₪": ("ILS",), "฿": ("THB",), "₫": ("VND",),
    "₸": ("KZT",), "тг": ("KZT",), "тенге": ("KZT",), "₱": ("PHP",), "r$": ("BRL",),
    "us$": ("USD",), "c$": ("CAD",), "ca$": ("CAD",), "a$": ("AUD",), "au$": ("AUD",),
    "nz$": ("NZD",), "hk$": ("HKD",), "s$": ("SGD",), "mx$": ("MXN",), "円": ("JPY",),
    "元": ("CNY",), "лв": ("BGN",), "ft": ("HUF",), "lei": ("RON",), "fr.": ("CHF",),
    "$": ("USD", "CAD", "AUD", "NZD", "MXN", "ARS", "CLP", "COP", "SGD", "HKD", "UYU", "TWD"),
}


def _symbol_pattern(symbol: str) -> str:
    """Word-like symbols (``kr``, ``тг``) must stand alone; signs (``€``) may touch digits."""
    before = r"(?<![^\W\d])" if symbol[0].isalpha() else ""
    after = r"(?![^\W\d])" if symbol[-1].isalpha() else ""
    return before + re.escape(symbol) + after


_SYMBOL_RE = re.compile("|".join(_symbol_pattern(k) for k in sorted(SYMBOLS, key=len,
                                                                     reverse=True)), re.I)
_CODE_RE = re.compile(r"(?<![A-Za-z])([A-Z]{3})(?![A-Za-z])")
_NUMBER = re.compile(r"\d(?:[\d.,'’\u00a0\u202f ]*\d)?")
MAX_PRICE = Decimal("1e10")


def currency_code(value: object) -> str | None:
    """An ISO 4217 code from a markup value (``EUR``, ``eur``, ``RUR``) or a symbol (``€``)."""
    if not isinstance(value, str):
        return None
    s = value.strip()
    if (code := ALIASES.get(s.upper(), s.upper())) in ISO_4217:
        return code
    candidates = currency_candidates(s)
    return candidates[0] if candidates else None


def currency_candidates(text: str) -> list[str]:
    """Every code a piece of visible text may denote: ISO codes in it, then its symbols'."""
    found = [ALIASES.get(c, c) for c in _CODE_RE.findall(text.upper()) if
             ALIASES.get(c, c) in ISO_4217]
    for symbol in _SYMBOL_RE.findall(text):
        found += SYMBOLS[symbol.lower()]
    return list(dict.fromkeys(found))


def _normalise_digits(number: str, *, markup: bool) -> str | None:
    """``1.234,56`` → ``1234.56``; ``1,299`` → ``1299``; in markup ``49.990`` stays 49.990."""
    s = re.sub(r"[\s'’\u00a0\u202f]", "", number)
    dots, commas = s.count("."), s.count(",")
    if dots and commas:
        decimal = "." if s.rfind(".") > s.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        s = s.replace(thousands, "").replace(decimal, ".")
    elif dots + commas:
        sep = "." if dots else ","
        head, _, tail = s.rpartition(sep)
        if dots + commas > 1:
            s = s.replace(sep, "") if len(tail) == 3 else None if sep == "," else s
        elif len(tail) == 3 and not (markup and sep == "."):
            s = head + tail  # a thousands separator
        else:
            s = head + "." + tail
    return s if s and re.fullmatch(r"\d+(\.\d+)?", s) else None


def parse_amount(value: object, *, markup: bool = True) -> Decimal | None:
    """The first amount in ``value`` (a markup value or visible text) as a ``Decimal``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        value = repr(value) if isinstance(value, float) else str(value)
    if not isinstance(value, str):
        return None
    match = _NUMBER.search(value)
    if match is None:
        return None
    digits = _normalise_digits(match.group(0).strip(), markup=markup)
    if digits is None:
        return None
    try:
        amount = Decimal(digits)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount >= MAX_PRICE:
        return None
    return amount


def parse_price(text: str, *, markup: bool = False) -> tuple[Decimal | None, str | None]:
    """(amount, ISO currency) of a visible price such as ``1.599,00 €`` or ``$60``."""
    codes = currency_candidates(text)
    return parse_amount(text, markup=markup), codes[0] if codes else None
