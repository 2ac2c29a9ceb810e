"""Workshop indicators on a small hand-made warehouse extract, with answers computed by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from conftest import REFERENCE_RUN
from transforms.formatting import clock, duration, number, percent
from transforms.workshops import indicators_by_commune, indicators_for_territory, upcoming_sessions

COMMUNES = {"91477": "Palaiseau", "91377": "Massy", "91272": "Gif-sur-Yvette"}
COLUMNS = ["identifiant_seance", "commune", "date", "heure_debut", "duree_minutes", "places",
           "inscrits", "presents", "statut"]
ROWS = pd.DataFrame([
    ("A", "91477", "2025-03-10", "10:00", 60, 10, 8, 6, "realisee"),
    ("B", "91477", "2025-06-01", "14:00", 90, 12, 12, 9, "realisee"),
    ("C", "91477", "2025-07-01", "14:00", 60, 10, 5, None, "annulee"),
    ("D", "91377", "2025-05-05", "09:30", 120, 8, 4, 4, "realisee"),
    ("E", "91477", "2026-01-10", "10:00", 60, 10, 10, 10, "realisee"),
    ("F", "91477", "2026-12-01", "14:30", 60, 10, 3, None, "prevue"),
    ("G", "91377", "2026-11-25", "05:00", 60, 10, 3, None, "prevue"),
    ("H", "91377", "2026-11-26", "10:00", 60, 10, 3, None, "annulee"),
    ("I", "91377", "2026-11-25", "06:00", 60, 10, 10, None, "prevue"),
], columns=COLUMNS)


def by(frame, year, commune):
    return frame[(frame["annee"] == year) & (frame["commune"] == commune)].iloc[0]


def test_commune_year_indicators_match_hand_computation():
    frame = indicators_by_commune(ROWS, COMMUNES)
    palaiseau = by(frame, 2025, "91477")
    assert palaiseau["seances_realisees"] == 2
    assert palaiseau["seances_annulees"] == 1
    assert palaiseau["participants"] == 15
    assert palaiseau["heures_apprenants"] == pytest.approx(6 * 1 + 9 * 1.5)
    assert palaiseau["taux_remplissage"] == pytest.approx(20 / 22)
    assert palaiseau["taux_presence"] == pytest.approx(15 / 20)
    massy = by(frame, 2025, "91377")
    assert (massy["seances_realisees"], massy["participants"]) == (1, 4)
    assert massy["heures_apprenants"] == pytest.approx(8)
    assert massy["taux_remplissage"] == pytest.approx(0.5)
    planned_only = by(frame, 2026, "91477")
    assert (planned_only["seances_realisees"], planned_only["participants"]) == (1, 10)


def test_commune_without_data_is_not_reported_rather_than_zero():
    frame = indicators_by_commune(ROWS, COMMUNES)
    gif = by(frame, 2025, "91272")
    assert math.isnan(gif["participants"]) and math.isnan(gif["seances_realisees"])
    assert number(gif["participants"]) == "non renseigné"


def test_territory_totals():
    totals = indicators_for_territory(ROWS).set_index("annee")
    assert totals.loc[2025, "seances_realisees"] == 3
    assert totals.loc[2025, "participants"] == 19
    assert totals.loc[2025, "heures_apprenants"] == pytest.approx(27.5)
    assert totals.loc[2025, "taux_remplissage"] == pytest.approx(24 / 30)
    assert totals.loc[2025, "taux_presence"] == pytest.approx(19 / 24)


def test_upcoming_excludes_past_and_cancelled_sessions_and_sorts_by_start():
    upcoming = upcoming_sessions(ROWS, REFERENCE_RUN)
    assert upcoming["identifiant_seance"].tolist() == ["I", "F"]
    assert upcoming["places_restantes"].tolist() == [0, 7]


def test_french_formatting():
    assert number(12345) == "12\u202f345"
    assert percent(0.452) == "45,2\u202f%"
    assert clock("09:00") == "9 h" and clock("14:30") == "14 h 30"
    assert duration(90) == "1 h 30" and duration(60) == "1 h"
