"""Open data of the results, on a site built from the sample drops: every CSV read back equals
the HTML table it downloads, the datapackage validates with frictionless, cells cannot start a
formula, and the methodology page is the catalogue."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from markupsafe import escape

from pages import opendata
from pages.results_view import add_texts
from transforms.catalogue import CATALOGUE
from transforms.results import compute_results

WITHHELD = {"non renseigné", "< 5", "secret", "sans objet"}


@pytest.fixture
def site(demo_site) -> Path:
    """The session's demo site, shared read-only (conftest.demo_site)."""
    return demo_site


class _Tables(HTMLParser):
    """Rows of every ``<table id="table-…">``: the header cell then the data cells, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and (attrs.get("id") or "").startswith("table-"):
            self._table = self.tables.setdefault(attrs["id"].removeprefix("table-"), [])
        elif self._table is not None and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join(self._cell.split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def html_tables(path: Path) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tables


def french_number(text: str) -> float | None:
    """``12 345`` -> 12345, ``45,2 %`` -> 0.452, ``410 €`` -> 410; withheld -> None."""
    if text in WITHHELD:
        return None
    clean = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace("€", "")
    if clean.endswith("%"):
        return round(float(clean[:-1].replace(",", ".")) / 100, 4)
    return float(clean.replace(",", "."))


def csv_rows(site: Path, relative: str) -> list[dict]:
    text = (site / "donnees" / "resultats" / relative).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_every_csv_equals_its_html_table(site):
    package = json.loads((site / "donnees/datapackage.json").read_text(encoding="utf-8"))
    compared = 0
    root = site / "donnees/resultats"
    # A year's tables are on the page of their dataset (resultats/<année>/<données>/).
    pairs = [(p, site / "resultats" / p.parent.name / p.stem.split("-")[0] / "index.html")
             for p in sorted(root.glob("*/*.csv"))]
    pairs += [(p, site / "resultats/index.html") for p in sorted(root.glob("*-annees.csv"))]
    assert len(pairs) > 10
    for path, page in pairs:
        relative = path.relative_to(root).as_posix()
        table_id = path.stem
        html_rows = html_tables(page)[table_id][1:]  # without the header row
        rows = csv_rows(site, relative)
        fields = next(r for r in package["resources"]
                      if r["path"] == f"resultats/{relative}")["schema"]["fields"]
        values = [f["name"] for f in fields if f["type"] in ("integer", "number")]
        assert len(html_rows) == len(rows) > 0
        for html_row, row in zip(html_rows, rows):
            assert html_row[0] in (row.get("commune"), row.get("modalite"))
            for text, name in zip(html_row[1:], values, strict=True):
                expected = french_number(text)
                got = float(row[name]) if row[name] != "" else None
                assert (got if got is None else round(got, 4)) == expected, (path, row, name)
                compared += 1
    assert compared > 200


def test_commune_page_shows_the_same_numbers(site):
    rows = {r["code_insee"]: r for r in csv_rows(site, "2026/ateliers-communes.csv")}
    page = (site / "resultats/2026/91477/index.html").read_text(encoding="utf-8")
    cell = re.search(r'data-indicateur="participants"><th scope="row">[^<]*</th>'
                     r'<td class="valeur">([^<]*)</td>', page)
    assert cell and french_number(cell.group(1)) == float(rows["91477"]["participants"])


def test_datapackage_validates_with_frictionless(site):
    from frictionless import validate

    report = validate(str(site / "donnees/datapackage.json"))
    assert report.valid, report.flatten(["resource", "type", "note"])[:10]
    package = json.loads((site / "donnees/datapackage.json").read_text(encoding="utf-8"))
    assert package["licenses"][0]["title"] == "Licence Ouverte 2.0"
    # One package for the whole folder: results, workbooks, workshops, collection, venues.
    described = {r["path"] for r in package["resources"]}
    on_disk = {p.relative_to(site / "donnees").as_posix()
               for p in (site / "donnees").rglob("*") if p.suffix in (".csv", ".json", ".xlsx")
               and p.name != "datapackage.json"}
    assert described == on_disk
    assert {"ateliers-a-venir.csv", "ateliers-a-venir.json", "collecte-telephones-points.csv",
            "collecte-telephones-points.json", "lieux.csv", "lieux.json",
            "resultats/2026/resultats-2026.xlsx"} <= described
    assert not (site / "donnees/resultats/datapackage.json").exists()


def test_results_pages_link_the_downloads_and_draw_accessible_charts(site):
    year = (site / "resultats/2026/index.html").read_text(encoding="utf-8")
    datasets = re.findall(r'<a href="/resultats/2026/([a-z]+)/">', year)
    assert datasets == ["ateliers", "pass", "collecte", "lieux"]
    assert 'href="/donnees/datapackage.json"' in year
    page = (site / "resultats/2026/ateliers/index.html").read_text(encoding="utf-8")
    assert 'href="/donnees/resultats/2026/ateliers-communes.csv"' in page
    # A chart is a figure whose caption names it and whose list says each value as text.
    charts = re.findall(r'<figure class="bar-chart" aria-labelledby="([^"]+)">\s*'
                        r'<figcaption id="\1">([^<]+)</figcaption>\s*<ul class="bars">', page)
    assert [title for _id, title in charts] == ["Participations en 2026, par commune"]
    assert re.search(r'<li><span class="bar-label">Palaiseau<span class="visually-hidden"> :'
                     r'</span></span> <span class="bar-value">[^<]+</span><svg class="bar" '
                     r'aria-hidden="true"', page)
    index = (site / "resultats/index.html").read_text(encoding="utf-8")
    assert 'href="/resultats/objectifs/">les objectifs' in index
    targets = (site / "resultats/objectifs/index.html").read_text(encoding="utf-8")
    assert "Objectifs des programmes et progression" in targets
    assert 'href="/donnees/resultats/objectifs.csv"' in targets
    small = re.findall(r'<figure class="bar-chart bar-chart-small" aria-labelledby="'
                       r'graphique-([a-z]+)-annees-', index)
    series = [t for t in CATALOGUE if t.dataset in ("ateliers", "pass", "collecte")]
    assert len(small) == len(series)
    for path in [site / "resultats/index.html", *site.glob("resultats/2026/**/index.html")]:
        text = path.read_text(encoding="utf-8")
        assert "<script" not in text and "style=" not in text, path


def test_methodology_pages_are_the_catalogue(site):
    """The overview links every indicator to its definition on its dataset's page."""
    overview = (site / "resultats/methodologie/index.html").read_text(encoding="utf-8")
    for ind in CATALOGUE:
        assert f'href="/resultats/methodologie/{ind.dataset}/#{ind.id}"' in overview
        page = (site / "resultats/methodologie" / ind.dataset / "index.html").read_text(
            encoding="utf-8")
        assert f'<dt id="{ind.id}">' in page
        assert str(escape(ind.formula)) in page and str(escape(ind.definition)) in page


def test_no_csv_cell_can_start_a_formula():
    frames = {"ateliers": pd.DataFrame(
        [("A", "91477", "2026-01-10", 60, 10, 8, 6, "realisee", "smartphone", "seniors")],
        columns=["identifiant_seance", "commune", "date", "duree_minutes", "places", "inscrits",
                 "presents", "statut", "thematique", "public"])}
    communes = {"91477": "=HYPERLINK(\"http://x\")", "91377": "+1", "91272": "-2", "91471": "@A1",
                "91122": "\tTab", "91161": "\rCR"}
    results = compute_results(frames, communes, datetime(2026, 11, 25))
    files = opendata.files(add_texts(results), "=territoire")
    for name, text in files.items():
        if name.endswith(".csv"):
            for row in csv.reader(io.StringIO(text)):
                for cell in row:
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    assert "'=HYPERLINK" in files["donnees/resultats/2026/ateliers-communes.csv"]
