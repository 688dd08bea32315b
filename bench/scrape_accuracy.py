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

    from actors.scrape.phones import region_hint
    from actors.scrape.domains import cc_region
    from actors.scrape.extract import extract_page

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


def accuracy() -> dict:
    manifest = json.loads((CORPUS / "MANIFEST.json").read_text())
    hits, total = jsonld_exact(manifest)
    tp, tr, tf = trafilatura_f1()
    ap, ar, af = aeb_f1()
    found, hints = contact_recall(manifest)
    return {
        "jsonld_exact_match": f"{hits}/{total}",
        "main_text_trafilatura_p_r_f1": f"{tp:.3f} / {tr:.3f} / {tf:.3f}",
        "main_text_aeb_p_r_f1": f"{ap:.3f} / {ar:.3f} / {af:.3f}",
        "contact_recall": f"{found}/{hints} = {found / hints:.3f}",
    }
