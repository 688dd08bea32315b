"""Extraction accuracy of the scrape modules on the copied corpus (used by bench/scrape.py)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "scrape"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _html(path: Path) -> str:
    from actors.scrape.fetch import decode_body

    return decode_body(path.read_bytes())


def jsonld_exact(manifest: list[dict]) -> tuple[int, int]:
    from actors.scrape import structured

    hits = total = 0
    for entry in manifest:
        call = entry["ground_truth"].get("call") or ""
        wanted = "JsonLd" in call or call.startswith("extruct.extract(")
        if entry["source"] != "extruct" or not wanted:
            continue
        expected = json.loads((CORPUS / entry["files"][1]).read_text())
        expected = expected["json-ld"] if isinstance(expected, dict) else expected
        ours = structured.jsonld(structured.parse_tree(_html(CORPUS / entry["files"][0])))[0]
        total += 1
        hits += json.loads(json.dumps(ours)) == expected
    return hits, total


def trafilatura_f1() -> tuple[float, float, float]:
    from actors.scrape.extract import main_text_of

    truth = json.loads((CORPUS / "trafilatura" / "ground-truth.json").read_text())
    tp = fp = fn = 0
    for item in truth.values():
        text = _norm(main_text_of(_html(CORPUS / "trafilatura" / item["local_file"])) or "")
        tp += sum(_norm(s) in text for s in item.get("with", []))
        fn += sum(_norm(s) not in text for s in item.get("with", []))
        fp += sum(_norm(s) in text for s in item.get("without", []))
    return _prf(tp, fp, fn)


def _shingles(text: str) -> Counter:
    tokens = re.findall(r"\w+", text)
    return Counter(tuple(tokens[i:i + 4]) for i in range(max(1, len(tokens) - 3)))


def aeb_f1() -> tuple[float, float, float]:
    from actors.scrape.extract import main_text_of

    truth = json.loads((CORPUS / "aeb" / "ground-truth.json").read_text())
    tp = fp = fn = 0.0
    for key, item in truth.items():
        ours = _shingles(main_text_of(_html(CORPUS / "aeb" / f"{key}.html")) or "")
        gold = _shingles(item["articleBody"])
        t, f_p, f_n = sum((ours & gold).values()), sum((ours - gold).values()), sum(
            (gold - ours).values())
        total = t + f_p + f_n or 1
        tp, fp, fn = tp + t / total, fp + f_p / total, fn + f_n / total
    return _prf(tp, fp, fn)


def contact_recall(manifest: list[dict]) -> tuple[int, int]:
    import phonenumbers

    from actors.scrape.domains import cc_region
    from actors.scrape.extract import extract_page
    from actors.scrape.phones import region_hint

    by_id = {e["id"]: e for e in manifest}
    hints = json.loads((CORPUS / "derived" / "contact-hints.json").read_text())
    found = total = 0
    for file, hint in hints.items():
        url = (by_id.get(file) or by_id[file.removesuffix(".html")])["original_url"]
        page = extract_page(_html(CORPUS / file), url, main_text=False)
        region = cc_region(url.split("/")[2]) or region_hint(page.lang)
        for email in hint["mailto"] + hint["cloudflare_decoded"]:
            total, found = total + 1, found + (email.lower() in page.emails)
        for raw in hint["tel"]:
            number = phonenumbers.parse(raw.replace("%20", " "), region)
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            total, found = total + 1, found + (e164 in page.phones)
    return found, total


PRODUCTS = ROOT.parent / "shared" / "benchmarks" / "scrape" / "products"
#: Dates as pages write them: 5.12.2022, 05/12/22, 2022-12-05, 5. 12. 2022.
DATE = re.compile(r"(?<![\d.,/-])(?:\d{1,2}\s?[./-]\s?\d{1,2}\s?[./-]\s?(?:19|20)?\d\d|"
                  r"(?:19|20)\d\d-\d{1,2}-\d{1,2})(?![\d.,/-]*\d)")
DATE_REGIONS = ("DE", "AT", "CH", "IT", "FR", "ES", "NL", "PL", "US", "GB", "RU", "BR", "JP")


def _corpus_pages(manifest: list[dict]) -> list[tuple[str, str]]:
    """(html, original URL) of every copied corpus page, plus the 40 shared product pages
    when the shared folder is there (the bench may read it, the tests never do)."""
    import gzip

    pages = [(_html(CORPUS / e["files"][0]), e.get("original_url") or "http://example.com/")
             for e in manifest if (CORPUS / e["files"][0]).is_file()]
    if (PRODUCTS / "ground-truth.json").exists():
        from actors.scrape.fetch import decode_body

        truth = json.loads((PRODUCTS / "ground-truth.json").read_text())
        for path in sorted((PRODUCTS / "html").glob("*.html.gz")):
            pages.append((decode_body(gzip.decompress(path.read_bytes())),
                          truth[path.name.split(".")[0]]["url"]))
    return pages


def _date_numbers(text: str) -> set[str]:
    """Every E.164 number a date in ``text`` would turn into under a common region."""
    import phonenumbers

    out = set()
    for date in DATE.findall(text):
        for region in DATE_REGIONS:
            try:
                number = phonenumbers.parse(date, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                out.add(phonenumbers.format_number(number, 0))
    return out


def dates_as_phones(manifest: list[dict]) -> dict:
    """Dates returned as phones: by the extractor, and by phonenumbers' matcher alone (the
    extractor before issue #17: every VALID match of the page text under the page region)."""
    import phonenumbers

    from actors.scrape.extract import _TEXT_XPATH, extract_page
    from actors.scrape.structured import parse_tree

    pages = _corpus_pages(manifest)
    ours = matcher_only = dates = 0
    for html, url in pages:
        page = extract_page(html, url, main_text=False)
        tree = parse_tree(html)
        text = " ".join(" ".join(str(t).split()) for t in tree.xpath(_TEXT_XPATH))
        as_numbers = _date_numbers(text)
        dates += len(DATE.findall(text))
        ours += len(as_numbers & set(page.phones))
        plain = {phonenumbers.format_number(m.number, 0) for m in phonenumbers.PhoneNumberMatcher(
            text[:30_000], page.region or "ZZ", leniency=phonenumbers.Leniency.VALID)}
        matcher_only += len(as_numbers & plain)
    return {"pages": len(pages), "dates_in_text": dates, "dates_returned_as_phones": ours,
            "dates_as_phones_matcher_only": matcher_only}


def accuracy() -> dict:
    manifest = json.loads((CORPUS / "MANIFEST.json").read_text())
    hits, total = jsonld_exact(manifest)
    tp, tr, tf = trafilatura_f1()
    ap, ar, af = aeb_f1()
    found, hints = contact_recall(manifest)
    dates = dates_as_phones(manifest)
    return {
        "jsonld_exact_match": f"{hits}/{total}",
        "main_text_trafilatura_p_r_f1": f"{tp:.3f} / {tr:.3f} / {tf:.3f}",
        "main_text_aeb_p_r_f1": f"{ap:.3f} / {ar:.3f} / {af:.3f}",
        "contact_recall": f"{found}/{hints} = {found / hints:.3f}",
        "dates_returned_as_phones": f"{dates['dates_returned_as_phones']} "
                                    f"({dates['dates_in_text']} dates on {dates['pages']} pages;"
                                    f" the matcher alone: {dates['dates_as_phones_matcher_only']})",
    }
