"""Where each figure comes from (issue 15, item 2): the files of each dataset and year with the
rows each gave, on hand-made frames, through the warehouse (a correction counts for the newer
file only), and on the demo site (linked from every headline figure, the same files and row
counts as the ledger and the warehouse, hostile file names escaped and neutralised)."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from conftest import REFERENCE_RUN
from test_results import W_COLUMNS, workshop

from pipeline.contracts.datasets import WORKSHOPS
from transforms.results import compute_results
from transforms.results.prepare import Prepared, WarehouseTables
from transforms.results.provenance import file_rows, provenance

COMMUNES = {"91477": "Palaiseau", "91377": "Massy"}
OLD, NEW = "a" * 64, "b" * 64
RECEIVED = {("ville", OLD): {"partenaire": "ville", "nom": "Ville", "fichier": "ateliers.csv",
                             "recu_le": "2026-03-01"},
            ("ville", NEW): {"partenaire": "ville", "nom": "Ville",
                             "fichier": "correction.csv", "recu_le": "2026-03-02"}}
FIRST = [workshop("A", "91477", "2026-01-10", 60, 10, 9, 2, "realisee"),
         workshop("B", "91377", "2026-02-10", 60, 10, 9, 9, "realisee"),
         workshop("C", "91377", "2026-03-03", 60, 10, 4, None, "annulee"),
         workshop("D", "91477", "2025-05-05", 60, 10, 4, 4, "realisee"),   # another year
         workshop("E", "75056", "2026-05-05", 60, 10, 4, 4, "realisee")]   # outside
CORRECTION = [workshop("A", "91477", "2026-01-10", 60, 10, 9, 9, "realisee")]


def _frame(rows, sha: str) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=W_COLUMNS).assign(partner="ville", source_sha256=sha)


def _used(origins: list[dict]) -> dict[str, int]:
    return {f["fichier"]: f["lignes"] for group in origins for f in group["fichiers"]}


def test_rows_used_per_file_count_a_correction_for_the_newer_file_only():
    # The current rows as the warehouse gives them: A's current version is the correction's.
    current = pd.concat([_frame(FIRST[1:], OLD), _frame(CORRECTION, NEW)], ignore_index=True)
    rows = file_rows("ateliers", Prepared({"ateliers": current}, COMMUNES), COMMUNES)
    assert _used(provenance("ateliers", rows, RECEIVED, 2026)) == {"ateliers.csv": 2,
                                                                  "correction.csv": 1}
    assert _used(provenance("ateliers", rows, RECEIVED, 2025)) == {"ateliers.csv": 1}
    assert _used(provenance("ateliers", rows, RECEIVED, 2024)) == {}
    # Through compute_results: each year's origins, and the flat records of the open data.
    results = compute_results({"ateliers": current}, COMMUNES, REFERENCE_RUN, received=RECEIVED)
    (group,) = results["by_year"][2026]["origins"]["ateliers"]
    assert group["lignes"] == 3 and [f["fichier"] for f in group["fichiers"]] == [
        "ateliers.csv", "correction.csv"]  # oldest first
    assert {(r["annee"], r["fichier"], r["lignes"]) for r in results["provenance"]} == {
        (2025, "ateliers.csv", 1), (2026, "ateliers.csv", 2), (2026, "correction.csv", 1)}


def test_sorting_files_count_where_their_pickups_count():
    pickups = pd.DataFrame([("K1", "2026-04-01", "91477", "Mairie", 30),
                            ("K2", "2025-05-01", "91477", "Mairie", 20),
                            ("K3", "2026-05-01", "75056", "Mairie", 20)],
                           columns=["identifiant_collecte", "date", "commune", "point_collecte",
                                    "telephones_collectes"]).assign(partner="orange",
                                                                    source_sha256="c" * 64)
    sorting = pd.DataFrame([("K1", 10, 15), ("K2", 5, 5), ("K3", 1, 1)],
                           columns=["identifiant_collecte", "telephones_reconditionnes",
                                    "telephones_recycles"]).assign(partner="tri",
                                                                   source_sha256="d" * 64)
    received = {("orange", "c" * 64): {"partenaire": "orange", "nom": "Orange",
                                       "fichier": "releves.csv", "recu_le": "2026-06-01"},
                ("tri", "d" * 64): {"partenaire": "tri", "nom": "Tri", "fichier": "tri.csv",
                                    "recu_le": "2026-06-02"}}
    data = Prepared({"collecte": pickups, "tri": sorting}, COMMUNES)
    origins = provenance("collecte", file_rows("collecte", data, COMMUNES), received, 2026)
    assert [(g["donnees"], _used([g])) for g in origins] == [
        ("collecte", {"releves.csv": 1}), ("tri", {"tri.csv": 1})]


def test_the_warehouse_counts_as_the_frames_do(data_dir):
    from pipeline.load import warehouse

    with warehouse.engine().begin() as connection:
        for sha, when, rows in ((OLD, "2026-03-01T10:00", FIRST),
                                (NEW, "2026-03-02T10:00", CORRECTION)):
            frame = pd.DataFrame(rows, columns=W_COLUMNS).reindex(columns=WORKSHOPS.column_names)
            frame["_ligne"] = range(2, len(frame) + 2)
            warehouse.supersede_and_insert(connection, WORKSHOPS, "ville", sha, when, frame)
    counted = file_rows("ateliers", Prepared(WarehouseTables(), COMMUNES), COMMUNES)
    grouped = file_rows("ateliers", Prepared({"ateliers": warehouse.current_rows("ateliers")},
                                             COMMUNES), COMMUNES)
    key = ["donnees", "partner", "source_sha256", "annee"]
    assert (counted.sort_values(key).reset_index(drop=True).astype({"annee": int}).to_dict("records")
            == grouped.sort_values(key).reset_index(drop=True).astype({"annee": int})
            .to_dict("records"))
    assert _used(provenance("ateliers", counted, RECEIVED, 2026)) == {"ateliers.csv": 2,
                                                                     "correction.csv": 1}


def _read(site: Path, relative: str) -> str:
    return (site / relative).read_text(encoding="utf-8")


ROW = re.compile(r'<tr><th scope="row"><span class="file-name">([^<]*)</span> <span '
                 r'class="received">[^<]*</span></th><td class="partner">([^<]*)</td>'
                 r'<td class="rows-used">([^<]*)</td></tr>')


def test_headline_figures_link_to_the_files_they_come_from(demo_site):
    site = demo_site
    for page in ("index.html", "resultats/2026/index.html", "resultats/2026/ateliers/index.html"):
        assert 'href="/resultats/2026/ateliers/origine/#participants"' in _read(site, page), page
    assert 'href="/resultats/2026/ateliers/origine/"' in _read(site, "resultats/index.html")
    # Every linked section exists on its page.
    for page in site.rglob("*.html"):
        for path, anchor in re.findall(r'href="/(resultats/\d{4}/\w+/origine/)#(\w+)"',
                                       page.read_text(encoding="utf-8")):
            assert f'id="{anchor}"' in _read(site, path + "index.html"), (page, path, anchor)
    # The files and rows the page lists are the ledger's and the warehouse's current rows.
    from pipeline.config import load_territory

    territory = sorted(load_territory().commune_names)
    database = site.parents[2] / "warehouse" / "warehouse.sqlite"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        names = dict(connection.execute("select sha256, original_name from ledger"))
        counts = connection.execute(
            "select source_sha256, count(*) from ateliers where current = 1 and substr(date, "
            f"1, 4) = '2026' and commune in ({','.join('?' * len(territory))}) "
            "group by source_sha256", territory).fetchall()
    html = _read(site, "resultats/2026/ateliers/origine/index.html")
    listed = {name: int(rows.replace("\u202f", "")) for name, _partner, rows in ROW.findall(html)}
    assert len(listed) >= 3 and listed == {names[sha]: n for sha, n in counts}
    for record in csv.DictReader(io.StringIO(_read(site, "donnees/resultats/provenance.csv"))):
        assert record["fichier"] in names.values()
        if record["jeu_de_donnees"] == "ateliers" and record["annee"] == "2026":
            assert listed[record["fichier"]] == int(record["lignes_utilisees"])


@pytest.mark.slow
def test_hostile_file_names_are_escaped_on_the_page_and_neutralised_in_the_csv(data_dir):
    from site_fixture import HOSTILE_WORKSHOP

    from pipeline.ingest.flow import process_files
    from pipeline.load import warehouse
    from publish.site import publish

    inbox = data_dir / "inbox" / "ville-palaiseau"
    inbox.mkdir(parents=True)
    formula, script = '=HYPERLINK("x").csv', "<script>alert(1)</script>.csv"
    for name, text in ((formula, HOSTILE_WORKSHOP),
                       ("second.csv", HOSTILE_WORKSHOP.replace("PAL-X1", "PAL-X2"))):
        (inbox / name).write_text(text, encoding="utf-8")
        assert process_files([("ville-palaiseau", str(inbox / name))])[0].status != "rejete"
    # A name no file system holds (a slash), as another source of files could record it.
    with warehouse.engine().begin() as connection:
        connection.execute(warehouse.ledger.update()
                           .where(warehouse.ledger.c.original_name == "second.csv")
                           .values(original_name=script))
    build = Path(publish(REFERENCE_RUN).path)
    html = _read(build, "resultats/2026/ateliers/origine/index.html")
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.csv" in html
    assert "=HYPERLINK(&#34;x&#34;).csv" in html
    cells = {r["fichier"]: r for r in csv.DictReader(
        io.StringIO(_read(build, "donnees/resultats/provenance.csv")))}
    assert set(cells) == {"'" + formula, script}
    assert all(r["lignes_utilisees"] == "1" for r in cells.values())


def test_a_new_file_is_traced_even_when_its_dataset_was_kept(loaded_samples):
    from test_results import _drop_and_load, _recomputed

    from pipeline.config import load_territory
    from transforms.results import build_results

    territory = load_territory()
    build_results(territory, REFERENCE_RUN)  # fills the memo
    _drop_and_load(loaded_samples, "operateur-pass", "complement.csv", (
        "numero_pass;numero_carnet;valeur_euros;date_distribution;prescripteur;commune;"
        "date_utilisation;lieu_utilisation\n"
        "PN-2027-990001;C-2027-9900;10;02/03/2026;CCAS;91477;;\n"
        "PN-2027-990002;C-2027-9900;10;02/03/2026;CCAS;91477;;\n"))
    results = build_results(territory, REFERENCE_RUN)
    (group,) = results["by_year"][2026]["origins"]["pass"]
    assert _used([group])["complement.csv"] == 2
    assert results["provenance"] == _recomputed(territory)["provenance"]
