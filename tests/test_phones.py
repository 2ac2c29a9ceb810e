"""pages/phones.py: one row per collection point, with its last pickup and its total."""

from __future__ import annotations

import pandas as pd

from pages.phones import collection_points


def pickups(*rows):
    return pd.DataFrame(rows, columns=["commune", "point_collecte", "date",
                                       "telephones_collectes"])


def test_pickups_are_summed_per_point_with_the_latest_date():
    points = collection_points(pickups(
        ("91477", "Mairie de Palaiseau", "2026-03-02", 14),
        ("91377", "Boutique Orange Massy", "2026-05-11", 7),
        ("91477", "Mairie de Palaiseau", "2026-09-15", 3),
        ("91477", "Médiathèque George Sand", "2026-01-20", 22),
        ("91377", "Boutique Orange Massy", "2026-02-01", 5)))
    assert points.to_dict(orient="records") == [
        {"commune": "91377", "point_collecte": "Boutique Orange Massy",
         "derniere_releve": "2026-05-11", "telephones_collectes": 12},
        {"commune": "91477", "point_collecte": "Mairie de Palaiseau",
         "derniere_releve": "2026-09-15", "telephones_collectes": 17},
        {"commune": "91477", "point_collecte": "Médiathèque George Sand",
         "derniere_releve": "2026-01-20", "telephones_collectes": 22},
    ]
    assert list(points.index) == [0, 1, 2]


def test_same_point_name_in_two_communes_stays_two_points():
    points = collection_points(pickups(("91477", "Mairie", "2026-03-02", 4),
                                       ("91471", "Mairie", "2026-03-03", 6)))
    assert list(zip(points["commune"], points["telephones_collectes"])) == [("91471", 6),
                                                                             ("91477", 4)]


def test_no_pickup_gives_an_empty_table_with_the_page_columns():
    points = collection_points(pickups())
    assert points.empty
    assert list(points.columns) == ["commune", "point_collecte", "derniere_releve",
                                    "telephones_collectes"]
