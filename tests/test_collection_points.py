"""Used-phone bins declared in territory.toml ([[collection_points]]): checked when loaded,
merged with what the pickup files say (pages/phones.py), listed before their first pickup on
/telephones/, each with an A4 poster whose QR code leads back to it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from pages.phones import collection_places, collection_points
from pipeline.config import ConfigError, load_territory
from qr_reading import decoded

TERRITORY = """[territory]
name = "Essai"

[[communes]]
insee = "91477"
name = "Palaiseau"

[[communes]]
insee = "91377"
name = "Massy"
"""
BIN = """
[[collection_points]]
id = "palaiseau-mairie"
commune = "91477"
name = "Hall de la mairie de Palaiseau"
aliases = ["Mairie de Palaiseau"]
address = "91 rue de Paris, 91120 Palaiseau"
hours = "Mo-Fr 08:30-12:00,13:30-17:30; Sa 09:00-12:00"
since = 2026-03-01
"""


def territory(tmp_path: Path, extra: str):
    path = tmp_path / "territory.toml"
    path.write_text(TERRITORY + extra, encoding="utf-8")
    return load_territory(path)


def test_a_declared_bin_is_loaded_with_its_address_hours_and_date(tmp_path):
    (point,) = territory(tmp_path, BIN).collection_points
    assert (point.id, point.commune, point.address, point.since) == (
        "palaiseau-mairie", "91477", "91 rue de Paris, 91120 Palaiseau", "2026-03-01")
    loaded = territory(tmp_path, BIN)
    assert loaded.collection_point("91477", "hall de la MAIRIE de palaiseau") == point
    assert loaded.collection_point("91477", "Mairie  de Palaiseau") == point
    assert loaded.collection_point("91377", "Hall de la mairie de Palaiseau") is None


@pytest.mark.parametrize("change, message", [
    ('commune = "91477"', "key commune: '75056' is not the INSEE code"),
    ('hours = "Mo-Fr 08:30-12:00,13:30-17:30; Sa 09:00-12:00"',
     "key hours: 'lundi 9h-12h' is not in the OpenStreetMap opening_hours format"),
    ('address = "91 rue de Paris, 91120 Palaiseau"', "key address: must be a non-empty string"),
    ('id = "palaiseau-mairie"', "key id: use lowercase letters"),
    ("since = 2026-03-01", "key since: 'mars 2026' is not a date"),
])
def test_a_wrong_declaration_stops_with_the_bin_and_the_key(tmp_path, change, message):
    wrong = {"commune": 'commune = "75056"', "hours": 'hours = "lundi 9h-12h"',
             "address": 'address = " "', "id": 'id = "Mairie Palaiseau"',
             "since": 'since = "mars 2026"'}[change.split(" ")[0]]
    with pytest.raises(ConfigError, match=re.escape(message)):
        territory(tmp_path, BIN.replace(change, wrong))


def test_two_bins_with_one_name_in_a_commune_are_refused(tmp_path):
    twin = BIN.replace('id = "palaiseau-mairie"', 'id = "autre"').replace(
        'aliases = ["Mairie de Palaiseau"]', "")
    with pytest.raises(ConfigError, match="appears twice"):
        territory(tmp_path, BIN + twin)


def pickups(*rows):
    return collection_points(pd.DataFrame(rows, columns=["commune", "point_collecte", "date",
                                                         "telephones_collectes"]))


def test_pickups_under_any_spelling_add_up_on_the_declared_bin(tmp_path):
    loaded = territory(tmp_path, BIN + BIN.replace("palaiseau-mairie", "massy-mairie")
                       .replace('"91477"', '"91377"').replace("de Palaiseau", "de Massy")
                       .replace("Palaiseau", "Massy").replace("since = 2026-03-01", ""))
    groups = collection_places(pickups(
        ("91477", "Hall de la mairie de Palaiseau", "2026-03-02", 14),
        ("91477", "MAIRIE DE PALAISEAU", "2026-09-15", 3),
        ("91477", "Médiathèque George Sand", "2026-01-20", 22)), loaded)
    assert [g["nom_commune"] for g in groups] == ["Massy", "Palaiseau"]
    (massy,), palaiseau = groups[0]["points"], groups[1]["points"]
    # Massy's bin has had no pickup yet: listed all the same, with its address and poster.
    assert (massy["nom"], massy["derniere_releve"], massy["affiche"]) == (
        "Hall de la mairie de Massy", None, "/telephones/massy-mairie/affiche/")
    declared, named = palaiseau
    assert (declared["telephones_collectes"], declared["derniere_releve"]) == (17, "2026-09-15")
    assert declared["horaires"] and declared["horaires_lisibles"]
    assert (named["nom"], named["adresse"], named["affiche"], named["telephones_collectes"]) == (
        "Médiathèque George Sand", "", None, 22)


def test_the_sample_territory_declares_bins_in_its_own_communes():
    loaded = load_territory()
    assert loaded.collection_points
    assert {p.commune for p in loaded.collection_points} <= {c.insee for c in loaded.communes}


# The demo site (tests/site_fixture.py), built from the sample files and territory.toml.

def read(site: Path, path: str) -> str:
    return (site / path).read_text(encoding="utf-8")


@pytest.fixture
def site(demo_site) -> Path:
    return demo_site


def test_every_pickup_point_of_the_samples_is_listed_once(loaded_samples):
    from conftest import REFERENCE_RUN

    from pages.site_data import build_site_data
    from pipeline.load import warehouse

    loaded = load_territory()
    rows = warehouse.current_rows("collecte")
    listed = [(g["commune"], p["nom"]) for g in build_site_data(loaded, REFERENCE_RUN)[
        "phone_points"] for p in g["points"]]
    assert len(listed) == len(set(listed))
    expected = {(c, getattr(loaded.collection_point(c, n), "name", n))
                for c, n in zip(rows["commune"], rows["point_collecte"])}
    expected |= {(p.commune, p.name) for p in loaded.collection_points}
    assert set(listed) == expected
    # « Hall de la mairie de Orsay » in the files is the declared « … d'Orsay »: one entry.
    assert ("91471", "Hall de la mairie de Orsay") not in listed


def test_the_phone_page_lists_every_bin_new_ones_included(site):
    html = read(site, "telephones/index.html")
    assert "Emmaüs International" in html and "recyclés" in html
    items = {chunk.split('"', 1)[0]: chunk for chunk in html.split('<li id="point-')[1:]}
    for point in load_territory().collection_points:
        item = items[point.id]
        assert point.name.replace("'", "&#39;") in item and point.address in item
        assert f'href="/telephones/{point.id}/affiche/"' in item
    # The conservatoire's bin is new: no pickup in the sample files, listed all the same.
    new = items["palaiseau-conservatoire"]
    assert "pas encore relevé" in new and "Horaires non renseignés" in new
    assert len(items) >= 14  # 13 communes' pickup points and the new bin


def test_each_declared_bin_has_a_poster_with_a_qr_code_back_to_it(site):
    base = "https://numerique-pour-tous.example.org"
    for point in load_territory().collection_points:
        poster = read(site, f"telephones/{point.id}/affiche/index.html")
        assert "<h1>Déposez ici vos vieux téléphones</h1>" in poster
        assert point.address in poster and "Emmaüs International" in poster
        assert f'src="/telephones/{point.id}/qr.svg"' in poster
        svg = read(site, f"telephones/{point.id}/qr.svg")
        assert decoded(svg).text == f"{base}/telephones/#point-{point.id}"
        assert "Code QR vers les points de collecte de téléphones" in svg
