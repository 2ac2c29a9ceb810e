"""pipeline/read/json_reading.py: JSON arrays and GeoJSON points become cells; anything else
gets a French refusal naming where the problem is."""

from __future__ import annotations

import json

import pytest

from pipeline.read.json_reading import is_json_name, read_json_cells
from pipeline.read.unreadable import UnreadableFile


def _raw(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def test_an_array_of_objects_gives_one_row_each_columns_in_order_of_first_appearance():
    cells = read_json_cells(_raw([
        {"id": "L1", "nom": "Médiathèque", "services": ["Aide aux démarches", "Smartphone"]},
        {"id": "L2", "code_postal": "01000", "nom": None},
    ]))
    assert list(cells.columns) == ["id", "nom", "services", "code_postal"]
    assert cells.loc[0, "services"] == "Aide aux démarches|Smartphone"  # the contract's list
    assert cells.loc[1, "nom"] == "" and cells.loc[0, "code_postal"] == ""
    assert cells.loc[1, "code_postal"] == "01000"  # codes stay as written


def test_a_feature_collection_gives_its_properties_and_the_point_as_longitude_latitude():
    cells = read_json_cells(_raw({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "L1"},
         "geometry": {"type": "Point", "coordinates": [2.2457, 48.7145]}},
        {"type": "Feature", "properties": {"id": "L2", "latitude": 48.7},
         "geometry": {"type": "Point", "coordinates": [2.1, 48.6]}},
    ]}))
    assert cells.loc[0, ["longitude", "latitude"]].tolist() == [2.2457, 48.7145]
    assert cells.loc[1, "latitude"] == 48.7  # a property of its own wins over the point


@pytest.mark.parametrize("document, words", [
    ({"lieux": []}, "contient un objet au premier niveau"),
    ([{"id": "L1"}, "L2"], "L'élément n° 2 du tableau est un texte"),
    ([{"id": "L1", "adresse": {"rue": "x"}}], "L'objet n° 1, clé « adresse »"),
    ({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
                                                           "coordinates": [[0, 0]]}}]},
     "n'est pas un point"),
    ([], "aucun lieu"),
])
def test_shapes_that_do_not_fit_a_table_are_refused_in_french(document, words):
    with pytest.raises(UnreadableFile, match=words):
        read_json_cells(_raw(document))


def test_truncated_json_and_oversize_files_are_refused(monkeypatch):
    with pytest.raises(UnreadableFile, match="mal formé ou tronqué"):
        read_json_cells(_raw([{"id": "L1"}])[:-3])
    monkeypatch.setenv("INCLUSION_MAX_JSON_MB", "0.00001")
    with pytest.raises(UnreadableFile, match="trop gros"):
        read_json_cells(_raw([{"id": "L1", "nom": "x" * 100}]))


def test_json_names():
    assert is_json_name("lieux.JSON") and is_json_name("annuaire.geojson")
    assert not is_json_name("lieux.json.csv")
