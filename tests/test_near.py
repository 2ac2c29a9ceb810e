"""Issue 16 without a browser: hours facets from real-looking OpenStreetMap hours, public
holidays, distances told in French, neighbouring communes, and the town-hall positions of
territory.toml checked at load."""

from __future__ import annotations

from datetime import date

import pytest

from pages.venues import (distance_text, haversine_m, hours_facets, nearest_communes,
                          public_holiday_dates, search_text)
from pipeline.config import ConfigError, load_territory
from pipeline.contracts.hours import facets, public_holidays, week_intervals


@pytest.mark.parametrize("value, held", [
    # a town hall: weekdays with a lunch break, Saturday morning
    ("Mo-Fr 08:30-12:30,13:30-17:00; Sa 09:00-12:00", {"samedi", "semaine"}),
    # a media library: long days from Tuesday to Saturday, open through lunch
    ("Tu-Sa 10:00-18:00", {"samedi", "soir", "midi"}),
    # a France Services office closing at 17:30: open after 17:00 on weekdays
    ("Mo-Fr 09:00-12:00,14:00-17:30; PH off", {"soir", "semaine"}),
    # an association three afternoons a week
    ("Mo 14:00-17:00; We 09:00-12:00; Fr 09:00-12:00,14:00-17:00", set()),
    ("Tu,Th 14:00-18:00; We 10:00-12:00,14:00-18:00; Sa 10:00-17:00", {"samedi", "soir", "midi"}),
    ("Mo-Su 22:00-02:00", {"samedi", "soir", "semaine"}),
    ("24/7", {"samedi", "soir", "midi", "semaine"}),
    ("Mo-Fr 09:00-12:00; We off", set()),  # Wednesday closed: not every weekday
])
def test_facets_of_real_looking_hours(value, held):
    assert {name for name, holds in facets(week_intervals(value)).items() if holds} == held


def test_week_intervals_are_minutes_from_monday_and_wrap_past_sunday():
    assert week_intervals("Mo 09:00-12:00,14:00-18:00; Sa 10:00-12:00") == [
        (540, 720), (840, 1080), (5 * 1440 + 600, 5 * 1440 + 720)]
    late = week_intervals("Su 20:00-02:00")
    assert late == [(6 * 1440 + 1200, 7 * 1440 + 120)]  # into Monday, one interval
    assert week_intervals("24/7") == [(0, 7 * 1440)]


@pytest.mark.parametrize("value, said", [
    ("Mo-Fr 09:00-12:00; PH off", "ferme"),
    ("Mo-Fr 09:00-12:00; PH closed", "ferme"),
    ("Mo-Sa 09:00-18:00; Su,PH off", "ferme"),
    ("Tu-Sa 10:00-18:00; PH 10:00-12:00", "particulier"),
    ("Mo-Fr 09:00-12:00", None),
])
def test_public_holidays_are_marked_where_the_hours_say_so(value, said):
    assert public_holidays(value) == said


def test_unreadable_hours_give_no_facet_and_no_week():
    assert hours_facets("le mardi matin sur le marché") == ("", (), None)
    assert hours_facets(None) == ("", (), None)
    week, held, holidays = hours_facets("Sa 09:00-12:00; PH off")
    assert week == "7740-7920" and held == ("samedi",) and holidays == "ferme"


def test_public_holidays_of_france_ahead():
    found = public_holiday_dates(date(2026, 11, 25), days=200)
    assert found[:3] == ["2026-12-25", "2027-01-01", "2027-03-29"]
    assert "2027-05-06" in found and "2027-05-17" in found  # Ascension, Whit Monday 2027
    assert "2026-11-11" not in found  # before the start


def test_distances_told_in_french_and_haversine():
    # Palaiseau's and Massy's town halls (territory.toml): 2.6 km by hand
    metres = haversine_m(48.7144, 2.2458, 48.7308, 2.2714)
    assert 2_500 < metres < 2_700
    assert [distance_text(m) for m in (4, 851, 999, 3_240, 12_400)] == [
        "10 m", "850 m", "1000 m", "3,2 km", "12 km"]


def test_search_text_ignores_case_accents_and_punctuation():
    assert search_text("Médiathèque George-Sand", "12, rue de l'Église", "91120",
                       "Verrières-le-Buisson") == (
        "mediatheque george sand 12 rue de l eglise 91120 verrieres le buisson")


def test_neighbours_nearest_first():
    points = {"a": (48.7144, 2.2458), "b": (48.7308, 2.2714), "c": (48.6994, 2.1875),
              "d": (48.7019, 2.1339)}
    names = [("a", "A"), ("b", "B"), ("c", "C"), ("d", "D"), ("e", "E")]
    assert [n["nom_commune"] for n in nearest_communes("a", names, points, limit=2)] == ["B", "C"]
    assert nearest_communes("e", names, points) == []  # no point: no neighbours


def test_nearest_communes_for_many_communes_are_those_a_one_by_one_sort_finds():
    # NearestCommunes preselects with vectorised distances and measures the few nearest
    # exactly: the result must be the sort of every candidate by (metres, name, code).
    import random

    from pages.venues import NearestCommunes

    rng = random.Random(5)
    points = {f"{i:05d}": (46.0 + rng.random() * 4, 1.0 + rng.random() * 4) for i in range(400)}
    points["twin1"] = points["twin2"] = (47.0, 2.0)  # the same point: ordered by name
    names = [(code, f"Commune {rng.randrange(50)}") for code in points] + [("nowhere", "Nulle")]
    searched = NearestCommunes(names, points)
    for code in [*list(points)[:60], "twin1", "nowhere"]:
        for limit in (1, 3, 7):
            found = sorted((haversine_m(*points[code], *points[other]), name, other)
                           for other, name in names if other != code and other in points
                           ) if code in points else []
            assert searched(code, limit) == [
                {"commune": other, "nom_commune": name, "distance": distance_text(metres)}
                for metres, name, other in found[:limit]]


def _territory(tmp_path, commune_lines: str):
    path = tmp_path / "territory.toml"
    path.write_text('[territory]\nname = "T"\n[[communes]]\ninsee = "91477"\nname = "Palaiseau"\n'
                    + commune_lines, encoding="utf-8")
    return load_territory(path)


def test_town_hall_positions_are_read_and_checked(tmp_path):
    commune = _territory(tmp_path, "latitude = 48.7144\nlongitude = 2.2458\n").communes[0]
    assert (commune.latitude, commune.longitude) == (48.7144, 2.2458)
    assert _territory(tmp_path, "").communes[0].latitude is None
    with pytest.raises(ConfigError, match="commune '91477', key longitude: latitude and longitude go together"):
        _territory(tmp_path, "latitude = 48.7\n")
    with pytest.raises(ConfigError, match=r"key latitude: '48° 42′' is not a number of decimal degrees"):
        _territory(tmp_path, "latitude = \"48° 42′\"\nlongitude = 2.2\n")
    with pytest.raises(ConfigError, match="key longitude: 200 is not a number"):
        _territory(tmp_path, "latitude = 48.7\nlongitude = 200\n")


def test_every_commune_of_the_territory_has_its_town_hall():
    assert all(c.latitude is not None for c in load_territory().communes)
