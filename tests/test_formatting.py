"""transforms/formatting.py: numbers, rates, dates and durations as French readers expect them
(narrow no-break space U+202F between thousands and before "%", comma as decimal mark)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from pages.formatting import (NOT_REPORTED, clock, duration, long_date, number, percent,
                                   short_date)

NNBSP = "\u202f"


@pytest.mark.parametrize("value, decimals, text", [
    (0, 0, "0"),
    (999, 0, "999"),
    (12345, 0, f"12{NNBSP}345"),
    (-1500, 0, f"-1{NNBSP}500"),
    (1234567.891, 0, f"1{NNBSP}234{NNBSP}568"),  # rounded, never truncated
    (1234567.891, 2, f"1{NNBSP}234{NNBSP}567,89"),
    (12, 2, "12,00"),  # decimals are always shown when asked for
])
def test_number(value, decimals, text):
    assert number(value, decimals) == text


@pytest.mark.parametrize("value, decimals, text", [
    (0.452, 1, f"45,2{NNBSP}%"),
    (0.452, 0, f"45{NNBSP}%"),
    (1, 1, f"100,0{NNBSP}%"),
    (0, 1, f"0,0{NNBSP}%"),
    (12.5, 0, f"1{NNBSP}250{NNBSP}%"),
])
def test_percent(value, decimals, text):
    assert percent(value, decimals) == text


@pytest.mark.parametrize("missing", [None, float("nan")])
def test_missing_values_are_said_not_reported_not_zero(missing):
    assert NOT_REPORTED == "non renseigné"
    assert number(missing) == NOT_REPORTED
    assert number(missing, 2) == NOT_REPORTED
    assert percent(missing) == NOT_REPORTED
    assert duration(missing) == NOT_REPORTED


@pytest.mark.parametrize("value", ["2026-01-31", date(2026, 1, 31), datetime(2026, 1, 31, 23, 30)])
def test_dates_accept_iso_text_dates_and_datetimes(value):
    assert long_date(value) == "samedi 31 janvier 2026"
    assert short_date(value) == "31 janvier 2026"


def test_first_of_the_month_is_not_written_1er_by_babel():
    # The site writes "1 mars" (Babel's CLDR pattern); a change here would change every page.
    assert short_date("2026-03-01") == "1 mars 2026"
    assert long_date("2026-11-25") == "mercredi 25 novembre 2026"


@pytest.mark.parametrize("value, text", [
    ("09:00", "9 h"), ("14:30", "14 h 30"), ("00:05", "0 h 05"), ("18:00", "18 h"),
])
def test_clock(value, text):
    assert clock(value) == text


@pytest.mark.parametrize("minutes, text", [
    (0, "0 min"), (45, "45 min"), (60, "1 h"), (90, "1 h 30"), (125, "2 h 05"),
    (75.0, "1 h 15"),  # pandas gives floats when a column has blanks
    (180, "3 h"),
])
def test_duration(minutes, text):
    assert duration(minutes) == text


def test_the_commune_options_are_what_the_template_loop_wrote_and_escape_partner_text():
    from jinja2 import Environment

    from pages.formatting import commune_options

    places = [{"commune": "91477", "latitude": 48.7144, "longitude": 2.2458,
               "codes_postaux": ["91120"], "nom_commune": "Palaiseau"},
              {"commune": '9"1<x>', "latitude": None, "longitude": None,
               "codes_postaux": ["91300", "<b>&"], "nom_commune": "Massy <script>&co"}]
    loop = Environment(autoescape=True).from_string(
        "{% for c in places %}<option value=\"{{ c.commune }}\" data-lat=\"{{ c.latitude }}\" "
        "data-lon=\"{{ c.longitude }}\" data-cp=\"{{ c.codes_postaux|join(' ') }}\">"
        "{{ c.nom_commune }}</option>{% endfor %}")
    html = commune_options(places)
    assert html == loop.render(places=places)
    assert "<script>" not in html and "Massy &lt;script&gt;&amp;co" in html
    assert commune_options(places) is html  # written once per list of communes
    assert commune_options(list(places)) == html
