"""Upcoming sessions and French formatting on hand-made data (the yearly indicators are
checked by hand in test_results.py)."""

from __future__ import annotations

import pandas as pd
from conftest import REFERENCE_RUN

from pages.formatting import clock, duration, number, percent
from transforms.workshops import upcoming_sessions

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


def test_upcoming_excludes_past_and_cancelled_sessions_and_sorts_by_start():
    upcoming = upcoming_sessions(ROWS, REFERENCE_RUN)
    assert upcoming["identifiant_seance"].tolist() == ["I", "F"]
    assert upcoming["places_restantes"].tolist() == [0, 7]


def test_french_formatting():
    assert number(12345) == "12\u202f345"
    assert percent(0.452) == "45,2\u202f%"
    assert clock("09:00") == "9 h" and clock("14:30") == "14 h 30"
    assert duration(90) == "1 h 30" and duration(60) == "1 h"
