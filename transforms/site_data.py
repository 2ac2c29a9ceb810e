"""Everything the public site shows, computed once per build from the warehouse.

The result is plain data (dicts, lists, strings, numbers) so that Pelican templates only lay it
out. ``now`` is the reference moment of the build (the Airflow run's time, in the territory's
timezone), never the wall clock, so a re-run of the same DAG run rebuilds the same site.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

import pandas as pd

from pipeline import warehouse
from pipeline.config import Territory
from pipeline.contracts import WORKSHOPS
from transforms import exports, phones, vouchers
from transforms.venues import venue_key, venue_views
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
    slug = re.sub(r"[^a-z0-9]+", "-", f"{row['partner']}-{row['identifiant_seance']}".lower())
    return {
        "id": row["identifiant_seance"],
        "slug": slug.strip("-"),
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


def _by_year(frame: pd.DataFrame) -> dict[int, list[dict]]:
    return {int(year): _records(group.drop(columns="annee"))
            for year, group in frame.groupby("annee")} if not frame.empty else {}


def _dataset_results(by_commune: pd.DataFrame, totals: pd.DataFrame,
                     communes: dict[str, str]) -> dict[int, dict]:
    """Per year: the territory's figures and one row per commune of the territory (communes
    without rows for that dataset and year get no figures: "non renseigné")."""
    out = {}
    per_commune = _by_year(by_commune)
    for year, (total,) in _by_year(totals).items():
        rows = {r["commune"]: r for r in per_commune.get(year, [])}
        out[year] = {"total": total,
                     "communes": [{"commune": code, "nom_commune": name, **rows.get(code, {})}
                                  for code, name in sorted(communes.items(), key=lambda i: i[1])]}
    return out


def _venue_data(territory: Territory, upcoming: list[dict]) -> tuple[list[dict], list[dict]]:
    venues = warehouse.current_rows("lieux")
    passes = warehouse.current_rows("pass")
    redeemed_at = set(passes["lieu_utilisation"].dropna()) if not passes.empty else set()
    views = venue_views(venues, redeemed_at, territory.commune_names) if not venues.empty else []
    by_key = {venue_key(v["commune"], v["nom"]): v for v in views}
    for session in upcoming:
        venue = by_key.get(venue_key(session["commune"], session["lieu"]))
        if venue:
            session["lieu_slug"] = venue["slug"]
            venue["ateliers"].append(session)
    groups = []
    for code, name in sorted(territory.commune_names.items(), key=lambda item: item[1]):
        listed = [v for v in views if v["commune"] == code]
        if listed:
            groups.append({"commune": code, "nom_commune": name, "lieux": listed})
    return views, groups


def _phone_points(communes: dict[str, str]) -> list[dict]:
    points = phones.collection_points(warehouse.current_rows("collecte"))
    groups = []
    for code, name in sorted(communes.items(), key=lambda item: item[1]):
        rows = _records(points[points["commune"] == code]) if not points.empty else []
        if rows:
            groups.append({"commune": code, "nom_commune": name, "points": rows})
    return groups


def build_site_data(territory: Territory, now: datetime) -> dict:
    rows = warehouse.current_rows(WORKSHOPS.dataset)
    communes = territory.commune_names
    topics, publics = _labels("thematique"), _labels("public")
    upcoming = [_session_view(r, communes, topics, publics)
                for r in _records(upcoming_sessions(rows, now))]
    venues, venue_groups = _venue_data(territory, upcoming)
    venue_rows = warehouse.current_rows("lieux")
    by_commune = indicators_by_commune(rows, communes)
    totals = indicators_for_territory(rows)
    pass_rows = warehouse.current_rows("pass")
    phone_rows = phones.with_sorting(warehouse.current_rows("collecte"),
                                     warehouse.current_rows("tri"))
    extra = {
        "pass": _dataset_results(vouchers.by_commune(pass_rows), vouchers.for_territory(pass_rows),
                                 communes),
        "telephones": _dataset_results(phones.by_commune(phone_rows),
                                       phones.for_territory(phone_rows), communes),
    }
    # Results cover years that have begun; planned sessions of next year are not results.
    years = sorted(y for y in {int(y) for y in totals["annee"].tolist()} | set(extra["pass"])
                   | set(extra["telephones"]) if y <= now.year)
    results = {}
    for year in years:
        workshop_total = _records(totals[totals["annee"] == year])
        results[year] = {
            "annee": year,
            "total": workshop_total[0] if workshop_total else {},
            "communes": _records(by_commune[by_commune["annee"] == year]),
            "pass": extra["pass"].get(year),
            "telephones": extra["telephones"].get(year),
            "lieux": {"nombre": len(venues),
                      "communes": len({v["commune"] for v in venues})},
        }
    current_year = now.year if now.year in results else (years[-1] if years else now.year)
    return {
        "territory": {"name": territory.name, "short_name": territory.short_name,
                      "site_title": territory.site_title,
                      "contact_email": territory.contact_email,
                      "contact_phone": territory.contact_phone,
                      "site_url": territory.site_url},
        "generated_at": now.isoformat(timespec="minutes"),
        "today": now.date().isoformat(),
        "current_year": current_year,
        "upcoming": upcoming,
        "home_upcoming": upcoming[:HOME_UPCOMING],
        "years": years,
        "results": results,
        "indicator_columns": INDICATOR_COLUMNS,
        "venues": venues,
        "workshop_communes": sorted({(s["commune"], s["nom_commune"]) for s in upcoming},
                                    key=lambda item: item[1]),
        "workshop_topics": sorted({s["thematique"] for s in upcoming}),
        "workshop_publics": sorted({s["public"] for s in upcoming}),
        "venue_groups": venue_groups,
        "phone_points": _phone_points(communes),
        "exports": {"lieux.csv": exports.venues_csv(venue_rows),
                    "lieux.json": exports.venues_json(venue_rows)},
    }
