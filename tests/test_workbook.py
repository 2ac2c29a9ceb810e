"""Open data that is complete and citable (issue 15): the yearly XLSX workbooks (every sheet
equals its CSV, formula-safe, byte-identical from build to build), the upcoming workshops and
the phone collection points in the one data package of /donnees/, and « Comment citer ces
données » on /donnees/, beside a results table's downloads and in the data package."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest

from pages import opendata
from pages.citation import citation
from pages.phones import pickups_by_month
from pages.public_tables import upcoming_workshops
from pages.workbook import cell_value, sheet_names, year_workbook
from transforms.catalogue import CATALOGUE

BUILT = datetime(2026, 11, 25, 5, 0, tzinfo=ZoneInfo("Europe/Paris"))
CITE = citation("=Agglo", "https://site.example", BUILT)
PHONE = r"^\+33 [1-9]( \d\d){4}$"


@pytest.fixture
def site(demo_site) -> Path:
    return demo_site


def sheet_rows(book, name: str) -> list[list[object]]:
    return [list(row) for row in book[name].iter_rows(values_only=True)]


def same_cell(value: object, text: str) -> bool:
    """A sheet cell holds what its CSV cell says: the same number, the same text, or nothing."""
    if value is None:
        return text == ""
    if isinstance(value, (int, float)):
        return text != "" and float(text) == value
    return value == text


def test_every_sheet_of_the_yearly_workbook_equals_its_csv(site):
    root = site / "donnees/resultats/2026"
    book = openpyxl.load_workbook(root / "resultats-2026.xlsx")
    csvs = sorted(root.glob("*.csv"))
    assert len(csvs) > 5
    assert sorted(book.sheetnames[:-2]) == [p.stem for p in csvs]
    assert book.sheetnames[-2:] == ["Définitions", "À propos"]
    compared = 0
    for path in csvs:
        expected = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        rows = sheet_rows(book, path.stem)
        # openpyxl stops at the last written cell: a trailing empty cell is simply absent.
        width = len(expected[0])
        assert len(rows) == len(expected), path
        for row, texts in zip(rows, expected):
            cells = row + [None] * (width - len(row))
            assert all(same_cell(v, t) for v, t in zip(cells, texts, strict=True)), (path, row)
        compared += sum(len(row) for row in expected)
    assert compared > 500
    package = json.loads((site / "donnees/datapackage.json").read_text(encoding="utf-8"))
    numeric = {f["name"] for r in package["resources"]
               if r["path"].startswith("resultats/2026/") and "schema" in r
               for f in r["schema"]["fields"] if f["type"] in ("integer", "number")}
    sheet = book["ateliers-communes"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        for name, cell in zip(header, row):
            if cell.value is not None:
                assert (cell.data_type == "n") == (name in numeric), (name, cell.value)


def test_definitions_and_about_sheets_come_from_the_catalogue_and_the_territory(site):
    book = openpyxl.load_workbook(site / "donnees/resultats/2026/resultats-2026.xlsx")
    definitions = {row[0]: row for row in sheet_rows(book, "Définitions")[1:]}
    shown = {c.value for name in book.sheetnames[:-2] for c in book[name][1]}
    assert set(definitions) == shown
    for ind in CATALOGUE:
        if ind.id in definitions:
            _name, label, unit, definition, formula, _sheets = definitions[ind.id]
            assert (label, definition, formula) == (ind.label, ind.definition, ind.formula)
            assert unit
    about = dict(sheet_rows(book, "À propos")[1:])
    assert about["Producteur"] == "Communauté d'agglomération Paris-Saclay"
    assert about["Licence"].startswith("Licence Ouverte 2.0")
    assert about["Date des données"] == "2026-11-25"
    assert about["Adresse"] == ("https://numerique-pour-tous.example.org/donnees/resultats/2026/"
                                "resultats-2026.xlsx")
    assert "Comment citer" not in about["Comment citer ces données"]
    assert about["Comment citer ces données"].startswith("Communauté d'agglomération")


HOSTILE = {"path": "2026/hostile", "title": "Hostile", "fields": [
    {"name": "nom", "title": "Nom", "type": "string", "description": "Texte libre."},
    {"name": "telephone", "title": "Téléphone", "type": "string", "description": "Numéro.",
     "constraints": {"pattern": PHONE}},
    {"name": "latitude", "title": "Latitude", "type": "number", "description": "Nombre."},
    {"name": "note", "title": "Note", "type": "string", "description": "Texte libre."}],
    "records": [
        {"nom": '=HYPERLINK("http://x","y")', "telephone": "+33 1 69 31 00 00",
         "latitude": -2.5, "note": "-2.5"},
        {"nom": "@SUM(A1:A9)", "telephone": "+33 1 69 31|calc", "latitude": "-2.5",
         "note": "\tTab"},
        {"nom": "+1", "telephone": None, "latitude": None, "note": "Ligne 1\rLigne 2"}]}


def test_hostile_partner_text_is_never_a_formula_and_typed_values_stay_valid():
    data = year_workbook(2026, [HOSTILE], CITE)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = "".join(archive.read(n).decode("utf-8") for n in archive.namelist()
                      if n.startswith("xl/worksheets/"))
    assert "<f>" not in xml and "<f " not in xml  # not a single formula in the workbook
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = {(c.row, c.column_letter): c for row in book["hostile"].iter_rows() for c in row}
    assert cells[(2, "A")].value == '\'=HYPERLINK("http://x","y")'
    assert cells[(2, "A")].data_type == "s"
    phone = cells[(2, "B")]
    assert (phone.value, phone.data_type, phone.quotePrefix) == ("+33 1 69 31 00 00", "s", True)
    assert (cells[(2, "C")].value, cells[(2, "C")].data_type) == (-2.5, "n")
    assert (cells[(2, "D")].value, cells[(2, "D")].data_type) == ("'-2.5", "s")  # free text
    assert cells[(3, "A")].value == "'@SUM(A1:A9)"
    assert cells[(3, "B")].value == "'+33 1 69 31|calc"  # not a phone number: neutralised
    assert (cells[(3, "C")].value, cells[(3, "C")].data_type) == (-2.5, "n")
    assert cells[(3, "D")].value == "'\tTab"
    assert cells[(4, "A")].value == "'+1" and cells[(4, "B")].value is None
    assert cells[(4, "D")].value == "Ligne 1\nLigne 2"
    # The « À propos » sheet is partner-free, but the territory's name is text too.
    about = dict(sheet_rows(book, "À propos")[1:])
    assert about["Producteur"] == "'=Agglo"


def test_the_workbook_is_byte_identical_when_built_twice():
    tables = [HOSTILE, {**HOSTILE, "path": "2026/autre", "title": "Autre"}]
    first = year_workbook(2026, tables, CITE)
    assert year_workbook(2026, tables, CITE) == first
    later = citation("=Agglo", "https://site.example", BUILT.replace(day=26))
    assert year_workbook(2026, tables, later) != first  # the date is the build's


def test_sheet_names_are_short_distinct_and_cells_typed_by_schema():
    long = [{"path": f"2026/{'x' * 40}"}, {"path": f"2026/{'X' * 40}"}, {"path": "2026/a:b"}]
    names = sheet_names(long)
    assert names == ["x" * 31, "X" * 29 + "-2", "a-b"]
    number = {"name": "n", "type": "integer"}
    assert cell_value("12", number) == 12 and cell_value(float("nan"), number) is None
    assert cell_value(12, {"name": "s", "type": "string"}) == "12"


def test_the_demo_workbook_is_the_one_built_again_from_the_same_tables(site):
    """Published builds are compared and cached: the same tables and build time give the same
    bytes as the build wrote."""
    from pages.workbook import year_workbooks

    package = json.loads((site / "donnees/datapackage.json").read_text(encoding="utf-8"))
    tables = []
    for resource in package["resources"]:
        path = resource["path"]
        if path.startswith("resultats/2026/") and path.endswith(".csv"):
            records = json.loads((site / "donnees" / path.replace(".csv", ".json")).read_text(
                encoding="utf-8"))
            tables.append({"path": path.removeprefix("resultats/").removesuffix(".csv"),
                           "title": resource["title"], "fields": resource["schema"]["fields"],
                           "records": records})
    cite = citation("Communauté d'agglomération Paris-Saclay",
                    "https://numerique-pour-tous.example.org",
                    datetime.fromisoformat(package["created"]))
    built = (site / "donnees/resultats/2026/resultats-2026.xlsx").read_bytes()
    assert year_workbooks(tables, [2026], cite)["donnees/resultats/2026/resultats-2026.xlsx"] \
        == built


def test_upcoming_workshops_hold_public_facts_only(site):
    rows = list(csv.DictReader(io.StringIO(
        (site / "donnees/ateliers-a-venir.csv").read_text(encoding="utf-8"))))
    records = json.loads((site / "donnees/ateliers-a-venir.json").read_text(encoding="utf-8"))
    assert len(rows) == len(records) > 0
    assert list(rows[0]) == list(records[0]) == [
        "identifiant_seance", "partenaire", "code_insee", "commune", "lieu", "adresse", "date",
        "heure_debut", "duree_minutes", "thematique", "public", "places_restantes",
        "inscription", "page"]
    for forbidden in ("inscrits", "presents", "participants", "places", "nom", "prenom",
                      "email", "courriel", "telephone"):
        assert forbidden not in rows[0]
    hostile = next(r for r in rows if r["identifiant_seance"] == "PAL-X1")
    assert hostile["lieu"].startswith("<script>")  # as sent: a CSV runs nothing but formulas
    assert hostile["places_restantes"] == "8"
    assert all(r["page"].startswith("https://numerique-pour-tous.example.org/ateliers/")
               for r in rows)


def test_workshop_table_leaves_out_registrations_whatever_the_session_holds():
    session = {"id": "=A1", "slug": "p-a1", "partner": "p", "date": "2026-12-01",
               "heure": "10:00", "duree_minutes": 60, "commune": "91477",
               "nom_commune": "Palaiseau", "lieu": "Mairie", "adresse": None,
               "thematique": "Smartphone", "public": "Seniors", "places": 10, "inscrits": 7,
               "presents": 3, "places_restantes": 3, "inscription": "+33 1 69 31 00 00"}
    table = upcoming_workshops([session], "https://site.example")
    record, = table["records"]
    assert "inscrits" not in record and "presents" not in record and "places" not in record
    text = opendata._csv(table["fields"], table["records"])
    assert "'=A1" in text and "'+33 1 69 31 00 00" in text


def test_phone_pickups_per_point_and_month(site):
    rows = pd.DataFrame({"commune": ["91477", "91477", "91477", "91471"],
                         "point_collecte": ["Mairie", "Mairie", "Mairie", "Gare"],
                         "date": ["2026-01-05", "2026-01-28", "2026-02-03", "2026-01-10"],
                         "telephones_collectes": [3, 4, 5, 6]})
    out = pickups_by_month(rows)
    assert out.to_dict(orient="records") == [
        {"commune": "91471", "point_collecte": "Gare", "mois": "2026-01", "releves": 1,
         "telephones_collectes": 6},
        {"commune": "91477", "point_collecte": "Mairie", "mois": "2026-01", "releves": 2,
         "telephones_collectes": 7},
        {"commune": "91477", "point_collecte": "Mairie", "mois": "2026-02", "releves": 1,
         "telephones_collectes": 5}]
    published = list(csv.DictReader(io.StringIO(
        (site / "donnees/collecte-telephones-points.csv").read_text(encoding="utf-8"))))
    assert published and all(r["commune"] and r["mois"][:4].isdigit() for r in published)
    assert {r["code_insee"] for r in published} <= {
        r["code_insee"] for r in csv.DictReader(io.StringIO(
            (site / "donnees/resultats/2026/collecte-communes.csv").read_text(encoding="utf-8")))}


def test_new_files_validate_with_frictionless(site):
    from frictionless import Package

    package = Package(str(site / "donnees/datapackage.json"))
    for name in ("ateliers-a-venir-csv", "ateliers-a-venir-json",
                 "collecte-telephones-points-csv", "collecte-telephones-points-json",
                 "lieux-csv"):
        report = package.get_resource(name).validate()
        assert report.valid, (name, report.flatten(["type", "note"])[:5])


def test_how_to_cite_is_on_the_open_data_page_the_results_pages_and_the_package(site):
    expected = ("Communauté d'agglomération Paris-Saclay, « Données ouvertes de l'inclusion "
                "numérique — Communauté d'agglomération Paris-Saclay », données mises à jour le "
                "25 novembre 2026, https://numerique-pour-tous.example.org/donnees/, "
                "Licence Ouverte 2.0.")
    page = (site / "donnees/index.html").read_text(encoding="utf-8")
    assert "Comment citer ces données" in page
    assert expected.replace("'", "&#39;") in page
    assert 'href="/donnees/resultats/2026/resultats-2026.xlsx"' in page
    assert 'href="/donnees/ateliers-a-venir.csv"' in page
    dataset = (site / "resultats/2026/ateliers/index.html").read_text(encoding="utf-8")
    assert dataset.count("Comment citer ces données") == dataset.count('class="downloads"') > 0
    assert ("https://numerique-pour-tous.example.org/donnees/resultats/2026/"
            "ateliers-communes.csv, Licence Ouverte 2.0.") in dataset
    package = json.loads((site / "donnees/datapackage.json").read_text(encoding="utf-8"))
    assert package["citation"] == expected
    assert package["contributors"] == [{"title": "Communauté d'agglomération Paris-Saclay",
                                        "path": "https://numerique-pour-tous.example.org",
                                        "role": "publisher"}]
    assert package["sources"] and all(s["title"] for s in package["sources"])
    assert package["homepage"] == "https://numerique-pour-tous.example.org/donnees/"
