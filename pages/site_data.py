"""Everything the public site shows, computed once per build from the warehouse.

The result is plain data (dicts, lists, strings, numbers) so that Pelican templates only lay it
out. ``now`` is the reference moment of the build (the Airflow run's time, in the territory's
timezone), never the wall clock, so a re-run of the same DAG run rebuilds the same site.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import datetime

import pandas as pd

from pages import exports, phones
from pages.find_help import guide_data
from pages.prescribers import prescribers_from_counts
from pages.venues import (NearestCommunes, commune_points, public_holiday_dates, unique_slugs,
                          venue_key, venue_views)
from pipeline.config import Territory
from pipeline.contracts.datasets import COLLECTION, VENUES, VOUCHERS, WORKSHOPS
from transforms.results.prepare import WarehouseTables
from transforms.workshops import upcoming_sessions

HOME_UPCOMING = 5
log = logging.getLogger(__name__)


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


def _session_slug(row: dict) -> str:
    return re.sub(r"[^a-z0-9]+", "-", f"{row['partner']}-{row[WORKSHOPS.key]}".lower()
                  ).strip("-")


def _session_views(rows: list[dict], communes: dict[str, str]) -> list[dict]:
    """Upcoming sessions as shown; two sessions whose ids differ only in case or punctuation
    get distinct folders (``pages.venues.unique_slugs``)."""
    topics, publics = _labels("thematique"), _labels("public")
    slugs = unique_slugs([_session_slug(row) for row in rows],
                         [(str(row["partner"]), str(row[WORKSHOPS.key])) for row in rows],
                         "atelier")
    return [_session_view(row, slug, communes, topics, publics) for row, slug in zip(rows, slugs)]


def _session_view(row: dict, slug: str, communes: dict[str, str], topics: dict,
                  publics: dict) -> dict:
    return {
        "id": row[WORKSHOPS.key],
        "slug": slug,
        "partner": row["partner"],
        "date": row[WORKSHOPS.date_column],
        "heure": row["heure_debut"],
        "duree_minutes": int(row["duree_minutes"]),
        "commune": row[WORKSHOPS.commune_column],
        "nom_commune": communes.get(row[WORKSHOPS.commune_column], row[WORKSHOPS.commune_column]),
        "lieu": row["lieu"],
        "adresse": row.get("adresse"),
        "thematique": topics.get(row["thematique"], row["thematique"]),
        "public": publics.get(row["public"], row["public"]),
        "places": int(row["places"]),
        "places_restantes": int(row["places_restantes"]),
        "inscription": row["inscription"],
        # When the partner file carrying this version arrived (the calendar's DTSTAMP).
        "modifie_le": row["source_received_at"],
    }


def _in_territory(venues: pd.DataFrame, communes: dict[str, str]) -> pd.DataFrame:
    """The venues of the territory's communes. The directory lists venues by commune, so a
    venue whose commune is unknown (no INSEE code) or elsewhere would be counted on the home
    page yet listed nowhere: it is left out of the pages (the export keeps it)."""
    if venues.empty:
        return venues
    inside = venues[VENUES.commune_column].isin(communes)
    if not inside.all():
        log.warning("lieux hors des communes du territoire, absents du site : %s",
                    ", ".join(sorted(f"{p}/{i}" for p, i in zip(venues["partner"][~inside],
                                                                   venues[VENUES.key][~inside]))))
    return venues[inside]


def _venue_data(territory: Territory, venues: pd.DataFrame, upcoming: list[dict],
                tables: WarehouseTables) -> tuple[list[dict], list[dict], list[dict]]:
    """Venue views, the venues grouped by commune (each group with its nearest neighbouring
    communes), and the communes residents can sort by distance from (with their point)."""
    redeemed_at = tables.distinct(VOUCHERS.dataset, "lieu_utilisation")
    venues = _in_territory(venues, territory.commune_names)
    communes = territory.commune_names
    # Kept between builds (tables.remember): they follow the venue and pass files only.
    views = tables.remember(("venue_views", tuple(sorted(communes.items()))),
                            (VENUES.dataset, VOUCHERS.dataset),
                            lambda: venue_views(venues, redeemed_at, communes)
                            ) if not venues.empty else []
    points = commune_points(territory.communes, views)
    by_key = {venue_key(v["commune"], v["nom"]): v for v in views}
    for session in upcoming:
        venue = by_key.get(venue_key(session["commune"], session["lieu"]))
        if venue:
            session["lieu_slug"] = venue["slug"]
            venue["ateliers"].append(session)
        # Where a session is, for the distance sort: its venue, else its commune's point.
        lat, lon = ((venue["latitude"], venue["longitude"]) if venue and venue["latitude"]
                    is not None else points.get(session["commune"], (None, None)))
        session["latitude"], session["longitude"] = lat, lon
    by_commune: dict[str, list[dict]] = {}
    names = {p.id: p.name for p in territory.partners}
    for view in views:
        by_commune.setdefault(view["commune"], []).append(view)
        view["partenaire"] = names.get(view["partner"], view["partner"])
    listed = [(code, name) for code, name in sorted(territory.commune_names.items(),
                                                    key=lambda item: item[1])
              if code in by_commune]
    neighbours = NearestCommunes(listed, points)
    groups = [{"commune": code, "nom_commune": name, "lieux": by_commune[code],
               "voisines": neighbours(code)} for code, name in listed]
    places = [{"commune": c.insee, "nom_commune": c.name, "codes_postaux": list(c.postal_codes),
               "latitude": round(points[c.insee][0], 5), "longitude": round(points[c.insee][1], 5)}
              for c in sorted(territory.communes, key=lambda c: c.name) if c.insee in points]
    return views, groups, places


def build_site_data(territory: Territory, now: datetime,
                    tables: WarehouseTables | None = None) -> dict:
    """``tables``: the build's tables, shared with the results (``build_results``)."""
    tables = WarehouseTables() if tables is None else tables
    communes = territory.commune_names
    upcoming = _session_views(_records(upcoming_sessions(tables[WORKSHOPS.dataset], now)),
                              communes)
    venue_rows = tables[VENUES.dataset]
    venues, venue_groups, venue_communes = _venue_data(territory, venue_rows, upcoming, tables)
    pickups = tables[COLLECTION.dataset]
    # Yearly figures and results pages come from transforms.results (the indicator catalogue).
    return {
        "territory": {"name": territory.name, "short_name": territory.short_name,
                      "site_title": territory.site_title,
                      "contact_email": territory.contact_email,
                      "contact_phone": territory.contact_phone,
                      "steward_email": territory.steward_email or territory.contact_email,
                      "site_url": territory.site_url, "timezone": territory.timezone},
        "generated_at": now.isoformat(timespec="minutes"),
        "today": now.date().isoformat(),
        "current_year": now.year,
        "upcoming": upcoming,
        "home_upcoming": upcoming[:HOME_UPCOMING],
        "venues": venues,
        "workshop_communes": sorted({(s["commune"], s["nom_commune"]) for s in upcoming},
                                    key=lambda item: item[1]),
        "venue_groups": venue_groups,
        # Communes to sort the lists by distance from, and the public holidays ahead (« PH »).
        "venue_communes": venue_communes,
        "public_holidays": public_holiday_dates(now.date()),
        # Declared bins (address, hours, poster) and the points only pickup files name.
        "phone_points": phones.collection_places(phones.collection_points(pickups), territory),
        # The guided path (/trouver/) and the referrers' sheets (/fiches/).
        "guide": guide_data(venues, upcoming, venue_communes),
        # Who hands out the pass numérique (/pass-numerique/, with the venues accepting it).
        # Counted by the database: the 2,000,000 passes' two columns took 450 MB in pandas.
        "pass_prescribers": prescribers_from_counts(tables.file_counts(
            VOUCHERS.dataset, ("commune", "prescripteur")), communes),
        # Pickups per collection point and month, for the open data (pages.public_tables).
        "phone_pickups": _records(phones.pickups_by_month(pickups)),
        "exports": exports.venue_downloads(venue_rows),
    }
