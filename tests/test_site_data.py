"""pages/site_data.py: what the site shows, computed from the warehouse at the run's time —
upcoming sessions soonest first with French labels, venues of the territory grouped by commune
in name order, workshops attached to the venue they are held in, collection points."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import REFERENCE_RUN

from pages.site_data import HOME_UPCOMING, build_site_data
from pipeline.config import load_territory
from pipeline.contracts.datasets import WORKSHOPS


@pytest.fixture
def site(loaded_samples):
    return build_site_data(load_territory(), REFERENCE_RUN)


def test_dates_and_territory_come_from_the_run_not_the_clock(site):
    territory = load_territory()
    assert site["today"] == "2026-11-25" and site["current_year"] == 2026
    assert site["generated_at"] == "2026-11-25T06:00+01:00"
    assert site["territory"]["name"] == territory.name
    assert site["territory"]["timezone"] == "Europe/Paris"
    assert set(site["exports"]) == {"lieux.csv", "lieux.json"}


def test_upcoming_sessions_are_future_soonest_first_with_labels_not_codes(site):
    upcoming = site["upcoming"]
    assert len(upcoming) > HOME_UPCOMING
    assert site["home_upcoming"] == upcoming[:HOME_UPCOMING]
    starts = [(s["date"], s["heure"]) for s in upcoming]
    assert starts == sorted(starts)
    assert min(starts) >= ("2026-11-25", "06:00")
    topics = {c.label for c in WORKSHOPS.column("thematique").choices}
    publics = {c.label for c in WORKSHOPS.column("public").choices}
    assert {s["thematique"] for s in upcoming} <= topics
    assert {s["public"] for s in upcoming} <= publics
    assert all(0 <= s["places_restantes"] <= s["places"] for s in upcoming)
    slugs = [s["slug"] for s in upcoming]
    assert len(set(slugs)) == len(slugs)
    assert all(slug == slug.lower() and " " not in slug for slug in slugs)


def test_a_later_run_drops_the_sessions_already_started(loaded_samples, site):
    later = build_site_data(load_territory(), REFERENCE_RUN + timedelta(days=30))
    cutoff = (REFERENCE_RUN + timedelta(days=30)).strftime("%Y-%m-%d")
    assert all(s["date"] >= cutoff for s in later["upcoming"])
    assert len(later["upcoming"]) < len(site["upcoming"])


def test_venues_are_grouped_by_commune_in_name_order_and_stay_in_the_territory(site):
    communes = load_territory().commune_names
    groups = site["venue_groups"]
    assert [g["nom_commune"] for g in groups] == sorted(g["nom_commune"] for g in groups)
    assert all(g["nom_commune"] == communes[g["commune"]] for g in groups)
    assert sum(len(g["lieux"]) for g in groups) == len(site["venues"]) > 0
    assert all(v["commune"] in communes for v in site["venues"])
    codes = [code for code, _name in site["workshop_communes"]]
    assert len(codes) == len(set(codes))
    assert {code for code, _ in site["workshop_communes"]} == {s["commune"]
                                                               for s in site["upcoming"]}


def test_sessions_held_at_a_known_venue_link_to_its_page(site):
    by_slug = {v["slug"]: v for v in site["venues"]}
    linked = [s for s in site["upcoming"] if "lieu_slug" in s]
    assert linked, "the samples hold sessions at directory venues"
    for session in linked:
        venue = by_slug[session["lieu_slug"]]
        assert session in venue["ateliers"] and venue["commune"] == session["commune"]
    assert sum(len(v["ateliers"]) for v in site["venues"]) == len(linked)


def test_collection_points_by_commune_name_with_positive_totals(site):
    points = site["phone_points"]
    assert points and [p["nom_commune"] for p in points] == sorted(p["nom_commune"]
                                                                   for p in points)
    for group in points:
        emptied = [p for p in group["points"] if p["derniere_releve"]]
        assert all(p["telephones_collectes"] > 0 for p in emptied)
        # A declared bin not emptied yet has no figure (not a zero).
        assert all(p["telephones_collectes"] is None and p["id"]
                   for p in group["points"] if not p["derniere_releve"])
        total = emptied[0]["telephones_collectes"]
        assert type(total) in (int, float) and total == int(total)  # plain Python, whole
