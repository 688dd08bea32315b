"""Extraction against the copied corpus and the synthetic pages."""

from __future__ import annotations

import json
from pathlib import Path

import phonenumbers
import pytest
from scrape_sites import ACME_ABOUT, ACME_CONTACT, ACME_HOME

from actors.scrape import structured
from actors.scrape.domains import cc_region
from actors.scrape.extract import extract_page
from actors.scrape.fetch import decode_body
from actors.scrape.phones import region_hint

CORPUS = Path(__file__).resolve().parents[2] / "data" / "scrape"
MANIFEST = {e["id"]: e for e in json.loads((CORPUS / "MANIFEST.json").read_text())}
EXTRUCT = [e for e in MANIFEST.values() if e["source"] == "extruct"]
SYNTAX = {"microdata": "microdata", "json-ld": "json-ld", "opengraph": "opengraph"}


def _html(entry: dict) -> str:
    return decode_body((CORPUS / entry["files"][0]).read_bytes())


def _ours(entry: dict, syntax: str) -> list:
    base = entry["ground_truth"].get("base_url")
    if base is not None:  # a whole page fetched from ``base``: the full page extraction
        page = extract_page(_html(entry), base, main_text=False)
        return {"microdata": page.microdata, "json-ld": page.jsonld,
                "opengraph": page.opengraph}[syntax]
    tree = structured.parse_tree(_html(entry))
    if syntax == "json-ld":
        return structured.jsonld(tree)[0]
    return {"microdata": structured.microdata, "opengraph": structured.opengraph}[syntax](tree)


def _roundtrip(value: object) -> object:
    return json.loads(json.dumps(value))


@pytest.mark.parametrize(
    "entry", [e for e in EXTRUCT if "extract(body, base_url" not in e["ground_truth"]["call"]
              and "Microformat" not in e["ground_truth"]["call"]], ids=lambda e: e["id"])
def test_extruct_samples_give_their_expected_single_syntax_output(entry: dict) -> None:
    call = entry["ground_truth"]["call"]
    syntax = "microdata" if "Microdata" in call else "json-ld" if "JsonLd" in call else "opengraph"
    expected = json.loads((CORPUS / entry["files"][1]).read_text())
    assert _roundtrip(_ours(entry, syntax)) == expected


@pytest.mark.parametrize("name", ["songkick-elysianfields", "songkick-tovestyrke"])
def test_real_songkick_pages_give_their_expected_json_ld_microdata_and_opengraph(name: str) -> None:
    entry = MANIFEST[f"extruct/{name}"]
    expected = json.loads((CORPUS / entry["files"][1]).read_text())
    for syntax in SYNTAX:
        assert _roundtrip(_ours(entry, syntax)) == expected[syntax], syntax


def _hint_phone(raw: str, region: str | None) -> str:
    number = phonenumbers.parse(raw.replace("%20", " "), region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def test_every_contact_hint_of_the_corpus_is_found() -> None:
    hints = json.loads((CORPUS / "derived" / "contact-hints.json").read_text())
    missing = []
    for file, hint in hints.items():
        entry = MANIFEST.get(file) or MANIFEST[file.removesuffix(".html")]
        html = decode_body((CORPUS / file).read_bytes())
        page = extract_page(html, entry["original_url"], main_text=False)
        region = cc_region(entry["original_url"].split("/")[2]) or region_hint(page.lang)
        for email in hint["mailto"] + hint["cloudflare_decoded"]:
            if email.lower() not in page.emails:
                missing.append((file, email))
        for raw in hint["tel"]:
            if _hint_phone(raw, region) not in page.phones:
                missing.append((file, raw))
    assert missing == []


def test_a_broken_json_ld_block_does_not_drop_the_good_one() -> None:
    page = extract_page(ACME_ABOUT, "http://acme-widgets.com/about-us", main_text=False)
    assert len(page.jsonld_errors) == 1 and "block 0" in page.jsonld_errors[0]
    assert [item["@type"] for item in page.jsonld] == ["LocalBusiness"]
    assert page.legal_names == ["Acme Widgets Gesellschaft mbH"]
    assert page.phones == ["+498938380"] and page.emails == ["info@acme-widgets.com"]
    assert page.addresses[0].text == "Unter den Linden 1, 10117 Berlin, DE"


def test_obfuscated_emails_are_decoded_and_phones_normalised() -> None:
    page = extract_page(ACME_CONTACT, "http://acme-widgets.com/contact", main_text=False)
    assert sorted(page.emails) == sorted([
        "sales@acme-widgets.com", "support@acme-widgets.com", "press@acme-widgets.com",
        "jobs@acme-widgets.com"])
    assert page.phones == ["+493022732152", "+442079460958"]


def test_graph_is_flattened_and_home_page_fields_are_found() -> None:
    page = extract_page(ACME_HOME, "http://acme-widgets.com/")
    assert [n["@type"] for n in structured.flatten_graph(page.jsonld)] == ["Organization",
                                                                          "WebSite"]
    assert page.names == ["Acme Widgets GmbH"]
    assert page.logos[0] == "http://acme-widgets.com/img/logo.png"
    assert "http://acme-widgets.com/img/logo-header.svg" in page.logos
    assert page.images == ["http://acme-widgets.com/img/hero.jpg"]
    assert page.social == ["https://www.linkedin.com/company/acme-widgets",
                           "https://www.facebook.com/acmewidgets"]  # the share link is not one
    assert page.description == "Acme Widgets makes precision widgets in Berlin."
    assert page.main_text and "widgets for industry" in page.main_text


def test_main_text_keeps_the_expected_segments_of_a_corpus_page() -> None:
    truth = json.loads((CORPUS / "trafilatura" / "ground-truth.json").read_text())
    url, item = next((u, v) for u, v in truth.items() if v["file"].startswith("anwaltniemeyer"))
    page = extract_page(decode_body((CORPUS / "trafilatura" / item["local_file"]).read_bytes()),
                        url)
    text = " ".join((page.main_text or "").split())
    assert all(segment in text for segment in item["with"])
