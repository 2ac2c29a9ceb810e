"""Everything the public site shows, computed once per build from the warehouse.

The result is plain data (dicts, lists, strings, numbers) so that Pelican templates only lay it
out. ``now`` is the reference moment of the build (the Airflow run's time, in the territory's
timezone), never the wall clock, so a re-run of the same DAG run rebuilds the same site.
"""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd

from pipeline import warehouse
from pipeline.config import Territory
from pipeline.contracts import WORKSHOPS
from transforms.workshops import (INDICATOR_COLUMNS, indicators_by_commune,
                                  indicators_for_territory, upcoming_sessions)

HOME_UPCOMING = 5


def _labels(column: str) -> dict[str, str]:
    return {c.code: c.label for c in WORKSHOPS.column(column).choices}


def _clean(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars -> Python
        return _clean(value.item())
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _session_view(row: dict, communes: dict[str, str], topics: dict, publics: dict) -> dict:
    return {
        "id": row["identifiant_seance"],
        "partner": row["partner"],
        "date": row["date"],
        "heure": row["heure_debut"],
        "duree_minutes": int(row["duree_minutes"]),
        "commune": row["commune"],
        "nom_commune": communes.get(row["commune"], row["commune"]),
        "lieu": row["lieu"],
        "adresse": row.get("adresse"),
        "thematique": topics.get(row["thematique"], row["thematique"]),
        "public": publics.get(row["public"], row["public"]),
        "places": int(row["places"]),
        "places_restantes": int(row["places_restantes"]),
        "inscription": row["inscription"],
    }


def build_site_data(territory: Territory, now: datetime) -> dict:
    rows = warehouse.current_rows(WORKSHOPS.dataset)
    communes = territory.commune_names
    topics, publics = _labels("thematique"), _labels("public")
    upcoming = [_session_view(r, communes, topics, publics)
                for r in _records(upcoming_sessions(rows, now))]
    by_commune = indicators_by_commune(rows, communes)
    totals = indicators_for_territory(rows)
    years = [int(y) for y in totals["annee"].tolist()]
    results = {}
    for year in years:
        total = _records(totals[totals["annee"] == year])[0]
        results[year] = {
            "annee": year,
            "total": total,
            "communes": _records(by_commune[by_commune["annee"] == year]),
        }
    current_year = now.year if now.year in results else (years[-1] if years else now.year)
    return {
        "territory": {"name": territory.name, "short_name": territory.short_name,
                      "site_title": territory.site_title,
                      "contact_email": territory.contact_email,
                      "contact_phone": territory.contact_phone},
        "generated_at": now.isoformat(timespec="minutes"),
        "today": now.date().isoformat(),
        "current_year": current_year,
        "upcoming": upcoming,
        "home_upcoming": upcoming[:HOME_UPCOMING],
        "years": years,
        "results": results,
        "indicator_columns": INDICATOR_COLUMNS,
    }
