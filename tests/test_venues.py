"""pages/venues.py: the venue directory as residents see it — only http(s) links from partner
data, phone numbers told the French way, one distinct and stable page path per venue."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pages.venues import (display_phone, hours_lines, safe_url, slugify, split, unique_slugs,
                          venue_key, venue_views)

COMMUNES = {"91477": "Palaiseau", "91377": "Massy"}


@pytest.mark.parametrize("value, kept", [
    ("https://www.ville-palaiseau.fr/mediatheque", "https://www.ville-palaiseau.fr/mediatheque"),
    ("http://exemple.fr/rdv?lieu=1&jour=2", "http://exemple.fr/rdv?lieu=1&jour=2"),
    ("https://exemple.fr/ rdv", None),
    ("javascript:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None),
    ("https://exemple.fr/\"onmouseover=\"alert(1)", None),
    ("https://exemple.fr/<script>", None),
    ("//exemple.fr/sans-schema", None),
    ("https://", None),
    ("ftp://exemple.fr/fichier", None),
    (None, None), (math.nan, None),
])
def test_safe_url_keeps_only_plain_http_links(value, kept):
    assert safe_url(value) == kept


@pytest.mark.parametrize("value, shown", [
    ("+33169310000", "01 69 31 00 00"),
    ("+33612345678", "06 12 34 56 78"),
    ("+3316931000", "+3316931000"),  # not a French number of ten digits: shown as given
    ("+32 2 123 45 67", "+32 2 123 45 67"),
    ("", None), (None, None),
])
def test_display_phone_in_pairs_of_digits(value, shown):
    assert display_phone(value) == shown


def test_split_lists_and_hours_in_french():
    assert split("Seniors|Familles||Jeunes") == ["Seniors", "Familles", "Jeunes"]
    assert split(None) == [] and split(math.nan) == []
    assert hours_lines("Mo-Fr 09:00-12:00") == (["Du lundi au vendredi de 9 h à 12 h"], True)
    assert hours_lines("le matin <b>sauf</b> lundi") == (["le matin <b>sauf</b> lundi"], False)
    assert hours_lines("   ") == ([], True) and hours_lines(None) == ([], True)


def test_slugs_are_readable_ascii_and_never_carry_markup():
    assert slugify("Médiathèque  George-Sand_N°1") == "mediatheque-george-sand-n1"
    assert slugify("<script>alert(1)</script>") == "script-alert-1-script"
    assert venue_key("91477", "Médiathèque George Sand") == \
        venue_key("91477", "MEDIATHEQUE  george sand")


def test_colliding_ids_get_distinct_suffixes_that_do_not_depend_on_row_order():
    ids = [("ville-palaiseau", "Lieu-1"), ("ville-palaiseau", "lieu_1"), ("ville-massy", "Salle")]
    slugs = unique_slugs(["lieu-1", "lieu-1", "salle"], ids, "lieu")
    assert slugs[2] == "salle"
    assert slugs[0] != slugs[1] and all(s.startswith("lieu-1-") and len(s) == 13
                                        for s in slugs[:2])
    reversed_slugs = unique_slugs(["salle", "lieu-1", "lieu-1"], ids[::-1], "lieu")
    assert reversed_slugs == slugs[::-1]
    assert unique_slugs(["", "x"], [("a", "&&&"), ("a", "x")], "lieu") == ["lieu", "x"]


def test_the_same_partner_and_id_twice_is_refused():
    with pytest.raises(ValueError, match="identifiants en double"):
        unique_slugs(["a", "a"], [("p", "a"), ("p", "a")], "lieu")


def venue(**fields):
    row = {"partner": "agglo-lieux", "id": "lieu-1", "nom": "Médiathèque", "code_insee": "91477",
           "commune": "Palaiseau", "horaires": None, "telephone": None, "site_web": None,
           "fiche_acces_libre": None, "prise_rdv": None, "latitude": None, "longitude": None,
           "autres_formations_labels": None, "prise_en_charge_specifique": None}
    row.update(fields)
    return row


def test_venue_views_sorted_by_commune_and_name_with_safe_links_and_pass_flag():
    venues = pd.DataFrame([
        venue(id="P2", nom="Tiers-lieu <b>La Fabrique</b>", site_web="https://fabrique.fr|javascript:alert(1)",
              telephone="+33169310000", latitude=48.71234567, longitude=2.24567891,
              horaires="Mo-Fr 09:00-12:00"),
        venue(id="M1", nom="Espace numérique", code_insee="91377", commune="Massy",
              prise_rdv="javascript:void(0)", autres_formations_labels="Accepte le Pass numérique"),
        venue(id="P1", nom="Centre social", latitude=math.nan, longitude=math.nan,
              fiche_acces_libre="https://acceslibre.beta.gouv.fr/app/91/"),
    ])
    views = venue_views(venues, redeemed_at={"P1"}, communes=COMMUNES)
    assert [v["id"] for v in views] == ["M1", "P1", "P2"]
    massy, centre, fabrique = views
    assert massy["nom_commune"] == "Massy" and massy["prise_rdv"] is None
    assert massy["accepte_pass"] is True  # from its labels
    assert massy["labels"] == ["Accepte le Pass numérique"]
    assert centre["accepte_pass"] is True  # a pass was redeemed there
    assert centre["osm"] is None and centre["accessible"] is True
    assert fabrique["accepte_pass"] is False and fabrique["accessible"] is False
    assert fabrique["sites"] == ["https://fabrique.fr"]
    assert fabrique["telephone"] == "01 69 31 00 00"
    assert fabrique["telephone_lien"] == "+33169310000"
    assert fabrique["osm"] == ("https://www.openstreetmap.org/?mlat=48.71235&mlon=2.24568"
                               "#map=18/48.71235/2.24568")
    assert fabrique["horaires"] == ["Du lundi au vendredi de 9 h à 12 h"]
    assert fabrique["nom"] == "Tiers-lieu <b>La Fabrique</b>"  # raw: the templates escape it
    assert [v["slug"] for v in views] == ["m1", "p1", "p2"]
    assert all(v["ateliers"] == [] for v in views)
    # Missing values are None, never the text "nan" on a page.
    assert all(value is None for value in (centre["adresse"], centre["presentation"]))
