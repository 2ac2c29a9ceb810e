"""pipeline/hours.py: OpenStreetMap ``opening_hours`` values told in French for residents."""

from __future__ import annotations

import opening_hours
import pytest

from pipeline.contracts.hours import describe, is_valid, usual_week


@pytest.mark.parametrize("value, lines", [
    ("Mo-Fr 09:00-12:00", ["Du lundi au vendredi de 9 h à 12 h"]),
    ("Mo-Fr 09:00-12:00,14:00-17:30; Sa 10:00-12:00",
     ["Du lundi au vendredi de 9 h à 12 h et de 14 h à 17 h 30", "Le samedi de 10 h à 12 h"]),
    ("Sa-Su 10:00-18:00", ["Le samedi et le dimanche de 10 h à 18 h"]),
    # days that are not next to each other are told separately, never as a span
    ("Tu,Th 14:00-18:00", ["Le mardi de 14 h à 18 h", "Le jeudi de 14 h à 18 h"]),
    # a closed day in the middle cuts the span in two
    ("Mo-Fr 09:00-12:00; We off",
     ["Le lundi et le mardi de 9 h à 12 h", "Le jeudi et le vendredi de 9 h à 12 h"]),
    ("Tu 10:30-11:45", ["Le mardi de 10 h 30 à 11 h 45"]),
    ("Mo-Su 18:00-24:00", ["Du lundi au dimanche de 18 h à minuit"]),
    ("24/7", ["Ouvert tous les jours, 24 heures sur 24"]),
    ("Mo off", ["Fermé (aucun horaire d'ouverture régulier)"]),
    # public holidays do not change the usual week (read on a week without any)
    ("Sa 09:00-12:00; PH off", ["Le samedi de 9 h à 12 h"]),
])
def test_describe_tells_the_usual_week_in_french(value, lines):
    assert describe(value) == lines


def test_usual_week_gives_each_day_monday_first():
    week = usual_week("Mo 09:00-12:00; We 14:00-16:15; Su 10:00-11:00")
    assert week == [("de 9 h à 12 h",), (), ("de 14 h à 16 h 15",), (), (), (),
                    ("de 10 h à 11 h",)]


def test_slots_of_a_day_keep_their_order():
    (monday, *_rest) = usual_week("Mo 14:00-17:00,08:30-12:00")
    assert monday == ("de 8 h 30 à 12 h", "de 14 h à 17 h")


@pytest.mark.parametrize("value, valid", [
    ("Mo-Fr 09:00-12:00", True),
    ("24/7", True),
    ("Mo-Fr 09:00-12:00; PH off", True),
    ("lundi 9h-12h", False),
    ("Mo-Fr 9h", False),
    ("", False),
])
def test_is_valid(value, valid):
    assert is_valid(value) is valid


def test_describe_raises_on_values_that_are_not_osm_syntax():
    # callers show the value as given in that case; they rely on this exception
    with pytest.raises(opening_hours.ParserError):
        describe("du lundi au vendredi")
