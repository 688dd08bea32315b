"""Phones: context-checked text numbers, never dates or amounts; regions found or guessed."""

from __future__ import annotations

import pytest

from actors.scrape.extract import extract_page
from actors.scrape.merge import merge_pages
from actors.scrape.phones import guess_region, is_date_shaped, is_number_shaped

GERMAN = """<html lang="de"><body>
<p>Stand: 5.12.2022 · Veranstaltung am 05.12.2022 · Update 2022-12-05 · 12/05/22</p>
<p>Saison 2019-2022, Umsatz 1.234.567 EUR, Artikel 08912345678</p>
<p>Tel.: 089 12345678 · Fax (089) 1234-5679 · Zentrale +49 30 22732152</p></body></html>"""


def test_dates_and_amounts_are_never_phones_and_labelled_numbers_are() -> None:
    page = extract_page(GERMAN, "https://beispiel-firma.de/kontakt", main_text=False)
    assert page.phones == ["+498912345678", "+498912345679", "+493022732152"]
    assert "+495122022" not in page.phones and page.region == "DE"
    assert page.guessed_regions == {}


@pytest.mark.parametrize("raw", ["5.12.2022", "05.12.2022", "2022-12-05", "12/05/22",
                                 "5. 12. 2022", "12.2022", "2019-2022", "1/31/2021"])
def test_date_shapes_are_recognised(raw: str) -> None:
    assert is_date_shaped(raw)


@pytest.mark.parametrize("raw", ["089 12345678", "305-376-2217", "(089) 1234-5679",
                                 "030-123-4567", "089-12-3456", "+49 30 22732152"])
def test_phone_shapes_are_not_dates_or_amounts(raw: str) -> None:
    assert not is_date_shaped(raw) and not is_number_shaped(raw)


def test_a_national_tel_link_without_any_region_is_kept_with_a_guessed_region() -> None:
    html = '<html><body><a href="tel:305-376-2217">Call us</a></body></html>'
    page = extract_page(html, "https://miami-bikes.com/", main_text=False)
    assert page.phones == ["+13053762217"]
    assert page.guessed_regions == {"+13053762217": "US"}
    assert guess_region("305-376-2217") == "US"


def test_the_pages_international_numbers_give_the_region_of_its_national_ones() -> None:
    html = """<html><body><p>Head office +41 44 668 18 00</p>
    <p>Hotline: 044 668 18 01</p><a href="tel:0446681802">Support</a></body></html>"""
    page = extract_page(html, "https://alpine-tools.com/", main_text=False)
    assert page.region == "CH"
    assert page.phones == ["+41446681802", "+41446681800", "+41446681801"]
    assert page.guessed_regions == {"+41446681802": "CH", "+41446681801": "CH"}


def test_a_known_region_is_not_flagged_as_guessed() -> None:
    html = '<html lang="en-US"><body><a href="tel:305-376-2217">Call</a></body></html>'
    page = extract_page(html, "https://miami-bikes.com/", main_text=False)
    assert page.phones == ["+13053762217"] and page.guessed_regions == {}


def test_the_record_keeps_which_phone_regions_were_guessed() -> None:
    home = extract_page('<html><body><a href="tel:305-376-2217">Call</a></body></html>',
                        "https://miami-bikes.com/", main_text=False)
    record = merge_pages("miami-bikes.com", [home])
    assert [p.value for p in record.phones] == ["+13053762217"]
    assert record.guessed_regions == {"+13053762217": "US"}


def test_a_label_does_not_reach_past_another_number() -> None:
    html = ('<html lang="de"><body><p>Tel.: 089 12345678 Bestellnummer 08912349999</p>'
            "</body></html>")
    page = extract_page(html, "https://beispiel-firma.de/", main_text=False)
    assert page.phones == ["+498912345678"]
