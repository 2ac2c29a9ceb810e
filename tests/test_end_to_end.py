"""The whole path through real Airflow (dag.test), Great Expectations and Pelican, on the
sample partner drops; expected numbers are recomputed here straight from the sample files."""

from __future__ import annotations

import csv
import io
import re
import shutil
from datetime import timedelta
from itertools import count
from pathlib import Path

import pytest
from conftest import REFERENCE_DAY, REFERENCE_RUN, REPO
from openpyxl import load_workbook

from demo.samples import write_samples
from pipeline.load import ledger, warehouse

pytestmark = [pytest.mark.slow, pytest.mark.airflow]
_run_offsets = count()


def run_dag(dagbag, dag_id: str):
    # Distinct run times keep run ids unique; a few seconds never change what is "upcoming".
    run_after = REFERENCE_RUN + timedelta(seconds=next(_run_offsets))
    dag_run = dagbag.get_dag(dag_id).test(run_after=run_after)
    assert dag_run.state == "success", f"{dag_id} ended {dag_run.state}"
    return dag_run


def sample_rows(inbox: Path) -> list[dict]:
    """Every sample row as the partner wrote it, read without the project's reader."""
    rows = []
    orange = next((inbox / "orange-ateliers").glob("*.csv")).read_text(encoding="utf-8-sig")
    rows += list(csv.DictReader(io.StringIO(orange), delimiter=";"))
    palaiseau = (inbox / "ville-palaiseau" / "ATELIERS_PALAISEAU.CSV").read_text(encoding="cp1252")
    for row in csv.DictReader(io.StringIO(palaiseau), delimiter=";"):
        day, month, year = row["Date"].split("/")
        rows.append({"commune": row["Commune (code INSEE)"], "date": f"{day}/{month}/20{year}",
                     "statut": row["Statut"], "presents": row["Présents"]})
    sheet = load_workbook(next((inbox / "ville-massy").glob("*.xlsx")), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    for raw in values[1:]:
        row = dict(zip(values[0], raw))
        rows.append({"commune": row["Commune (code INSEE)"], "date": row["Date"].strftime("%d/%m/%Y"),
                     "statut": row["Statut"], "presents": row["Présents"]})
    return rows


def iso(french_date: str) -> str:
    day, month, year = french_date.split("/")
    return f"{year}-{month}-{day}"


@pytest.fixture
def demo(data_dir, dagbag):
    written = write_samples(data_dir / "inbox", REFERENCE_DAY)
    expected_rows = sample_rows(data_dir / "inbox")
    run_dag(dagbag, "reception_fichiers")
    run_dag(dagbag, "publication_site")
    return data_dir, written, expected_rows


def page(data_dir: Path, relative: str) -> str:
    return (data_dir / "site" / "current" / relative).read_text(encoding="utf-8")


def test_sample_drops_reach_the_public_site(demo):
    data_dir, written, rows = demo
    upcoming = [r for r in rows if r["statut"] == "Prévue" and iso(r["date"]) >= REFERENCE_DAY.isoformat()]
    workshops_html = page(data_dir, "ateliers/index.html")
    assert workshops_html.count('<article class="session"') == len(upcoming) > 0

    palaiseau_2026 = sum(int(r["presents"]) for r in rows if r["commune"] == "91477"
                         and r["statut"] == "Réalisée" and iso(r["date"]).startswith("2026"))
    results_html = page(data_dir, "resultats/2026/ateliers/index.html")
    cell = re.search(r'<tr data-commune="91477">.*?<td class="participants">([^<]*)</td>',
                     results_html, re.S)
    assert cell and cell.group(1).replace("\u202f", "") == str(palaiseau_2026)

    home = page(data_dir, "index.html")
    assert '<html lang="fr">' in home and "Les prochains ateliers" in home
    # Venues and pickups load in a first wave, so the files that refer to them are clean;
    # only Orsay's phones, written without +33, carry a warning.
    statuses = {e.partner: e.status for e in ledger.entries()}
    assert {p for p, s in statuses.items() if s != ledger.STATUS_ACCEPTED} == {"ville-orsay"}
    assert statuses["ville-orsay"] == ledger.STATUS_ACCEPTED_WITH_WARNINGS
    assert len(ledger.entries()) == len(written) == 8
    for path in written:
        report = path.with_name(path.name + ".rapport.txt").read_text(encoding="utf-8")
        assert "fichier ACCEPTÉ" in report
        assert not path.exists()  # filed away in the archive


def test_redropping_the_same_files_changes_nothing(demo, dagbag):
    data_dir, written, _ = demo
    before_rows = warehouse.all_rows("ateliers").sort_values(["partner", "identifiant_seance"])
    before_ledger = ledger.entries()
    for archived in (data_dir / "archive").rglob("*__*"):
        partner = archived.parent.name
        shutil.copy(archived, data_dir / "inbox" / partner / archived.name.split("__", 1)[1])
    dag_run = run_dag(dagbag, "reception_fichiers")
    after_rows = warehouse.all_rows("ateliers").sort_values(["partner", "identifiant_seance"])
    assert after_rows.reset_index(drop=True).equals(before_rows.reset_index(drop=True))
    assert ledger.entries() == before_ledger
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states["signaler_changements"] == "skipped"  # no asset event, no rebuild


def test_bad_file_goes_to_quarantine_with_a_precise_report(demo, dagbag):
    data_dir, _, _ = demo
    before = warehouse.current_rows("ateliers").sort_values(["partner", "identifiant_seance"])
    bad = data_dir / "inbox" / "ville-palaiseau" / "ateliers_corriges.csv"
    bad.write_text(
        "identifiant_seance;commune;lieu;date;heure_debut;duree_minutes;thematique;public;places;inscrits;presents;statut;inscription\n"
        "PAL-0001;91477;Médiathèque George Sand;12/01/2026;14h;60;Jeunes;Jeunes;10;8;8;Réalisée;CCAS\n"
        "PAL-0002;91377;Médiathèque George Sand;32/01/2026;14h;60;Jeunes;Jeunes;10;8;9;Réalisée;CCAS\n",
        encoding="utf-8")
    run_dag(dagbag, "reception_fichiers")
    assert not bad.exists()
    quarantined = list((data_dir / "quarantine" / "ville-palaiseau").glob("*__ateliers_corriges.csv"))
    assert len(quarantined) == 1
    report = bad.with_name(bad.name + ".rapport.txt").read_text(encoding="utf-8")
    assert "fichier REFUSÉ" in report
    assert "Ligne 3, colonne « commune », valeur « 91377 »" in report
    assert "Ligne 3, colonne « date », valeur « 32/01/2026 »" in report
    assert "Ligne 3, colonne « presents », valeur « 9 »" in report
    assert "Ligne 2, colonne « thematique », valeur « Jeunes »" in report
    after = warehouse.current_rows("ateliers").sort_values(["partner", "identifiant_seance"])
    assert after.reset_index(drop=True).equals(before.reset_index(drop=True))
    assert ledger.find("ville-palaiseau", ledger.entries()[-1].sha256).status == ledger.STATUS_REJECTED


def test_partner_text_is_escaped_on_the_site(demo, dagbag, tmp_path, monkeypatch):
    data_dir, _, _ = demo
    # A one-session file after Palaiseau's whole export would make the publication wait for a
    # steward's approval ([publication] min_file_share; tests/test_approval_airflow.py).
    territory = tmp_path / "territory.toml"
    territory.write_text((REPO / "territory.toml").read_text(encoding="utf-8").replace(
        "min_file_share = 0.25", "min_file_share = 0.01"), encoding="utf-8")
    monkeypatch.setenv("INCLUSION_TERRITORY", str(territory))
    drop = data_dir / "inbox" / "ville-palaiseau" / "atelier_special.csv"
    drop.write_text(
        "identifiant_seance;commune;lieu;date;heure_debut;duree_minutes;thematique;public;places;inscrits;presents;statut;inscription\n"
        "PAL-X1;91477;<script>alert('lieu')</script>;01/12/2026;10h;60;Prise en main du smartphone;"
        "Seniors;10;2;;Prévue;<img src=x onerror=alert(1)> **gras**\n", encoding="utf-8")
    run_dag(dagbag, "reception_fichiers")
    run_dag(dagbag, "publication_site")
    html = page(data_dir, "ateliers/index.html")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;lieu&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt; **gras**" in html


def test_a_failed_batch_fails_the_run_even_when_other_batches_loaded(data_dir, dagbag,
                                                                     monkeypatch):
    """The stewards' list of runs must show the failure: a crashed batch beside batches that
    loaded rows (so that the Asset task succeeds) still ends the run "failed"."""
    import pipeline.ingest.flow

    write_samples(data_dir / "inbox", REFERENCE_DAY)
    real_screen = pipeline.ingest.flow.screen

    def broken_for_massy(path, partner, territory):
        if partner.id == "ville-massy":
            raise OSError("disque illisible (panne simulée)")
        return real_screen(path, partner, territory)

    monkeypatch.setattr(pipeline.ingest.flow, "screen", broken_for_massy)
    dag = dagbag.get_dag("reception_fichiers")
    for task in dag.tasks:  # no 30-second retry waits in a test
        monkeypatch.setattr(task, "retries", 0)
    dag_run = dag.test(run_after=REFERENCE_RUN + timedelta(seconds=next(_run_offsets)))
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == "failed", states
    assert states["signaler_changements"] == "success"  # other partners' rows did load
    assert states["bilan"] == "upstream_failed"
    assert ledger.entries() and all(e.partner != "ville-massy" for e in ledger.entries())
