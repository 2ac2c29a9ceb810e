"""The bad-file corpus (tests/corpus/cases.toml) and the reading edges that need binary files:
every bad input gets its precise French report, and nothing accepted before is lost."""

from __future__ import annotations

import io
import os
import shutil
import tomllib
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from pipeline.ingest.flow import process_files
from pipeline.load import ledger, warehouse
from pipeline.receive.inbox import plan_batches, report_refusals, scan_inboxes

CORPUS = Path(__file__).parent / "corpus"
# One file per theme (cases.toml, cases_*.toml), so that themes grow without touching each other.
CASES = [case for path in sorted(CORPUS.glob("cases*.toml"))
         for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]]
WORKSHOP_HEADER = ("identifiant_seance;commune;lieu;adresse;date;heure_debut;duree_minutes;"
                   "thematique;public;places;inscrits;presents;statut;inscription")
WORKSHOP_ROW = ("S1;91477;Médiathèque George Sand;1 place de la Mairie;12/01/2026;14h30;60;"
                "Prise en main du smartphone;Seniors;10;8;7;Réalisée;CCAS, 01 69 31 00 00")


@pytest.fixture
def corpus_env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INCLUSION_TERRITORY", str(CORPUS / "territory.toml"))
    return data_dir


def drop(data_dir: Path, partner: str, name: str, payload: bytes) -> Path:
    folder = data_dir / "inbox" / partner
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(payload)
    return path


def ingest(data_dir: Path, partner: str, name: str, payload: bytes):
    path = drop(data_dir, partner, name, payload)
    outcome = process_files([(partner, str(path))])[0]
    report = (path.parent / f"{name}.rapport.txt").read_text(encoding="utf-8")
    return outcome, report


def _preload(data_dir: Path) -> None:
    """What the warehouse holds before each corpus file arrives."""
    ingest(data_dir, "agglo-lieux", "lieux.csv", (
        "id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj,services\n"
        "lieu-91477-01,21910477700019,Médiathèque George Sand,Palaiseau,91120,91477,"
        "1 place de la Mairie,2026-01-15,Aide aux démarches administratives\n").encode())
    ingest(data_dir, "ccas-massy", "pass_massy.csv", (
        "numero_pass;numero_carnet;valeur_euros;date_distribution;prescripteur;commune;"
        "date_utilisation;lieu_utilisation\n"
        "PN-2026-000001;C-2026-0001;10;05/01/2026;CCAS de Massy;91377;10/01/2026;"
        "lieu-91477-01\n").encode())
    ingest(data_dir, "orange-collecte", "collecte.csv", (
        "identifiant_collecte;date;commune;point_collecte;telephones_collectes\n"
        "COL-1;01/02/2026;91471;Mairie d'Orsay;30\n").encode())
    ingest(data_dir, "ville-palaiseau", "ateliers_base.csv",
           f"{WORKSHOP_HEADER}\n{WORKSHOP_ROW.replace('S1;', 'BASE-1;')}\n".encode())
    assert all(e.accepted for e in ledger.entries())


@pytest.fixture
def preloaded(corpus_env: Path, data_templates) -> Path:
    """The preloaded warehouse, built once per session with the corpus territory and copied."""
    return data_templates.copy("corpus-preloaded", _preload, corpus_env)


def snapshot() -> dict[str, int]:
    return {name: len(warehouse.all_rows(name)) for name in warehouse.DATASET_TABLES}


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_corpus_file_gets_its_report(preloaded: Path, case: dict):
    before = snapshot()
    outcome, report = ingest(preloaded, case["partner"], case["file"],
                             (CORPUS / case["file"]).read_bytes())
    assert outcome.status == case["status"], report
    for message in case["messages"]:
        assert message in report, f"{message!r} not in report:\n{report}"
    for secret in case.get("absent", []):
        assert secret not in report
    if case["status"] == ledger.STATUS_REJECTED:
        assert snapshot() == before  # nothing accepted before is lost or changed
        assert list((preloaded / "quarantine" / case["partner"]).glob(f"*__{case['file']}"))
    assert not (preloaded / "inbox" / case["partner"] / case["file"]).exists()


def test_the_whole_corpus_dropped_at_once_gets_the_same_reports_in_batches(
        preloaded: Path, monkeypatch: pytest.MonkeyPatch):
    """Files are validated in batches (one GX run per dataset): each file still gets its own
    verdict and report, with its own lines, however the batch mixes partners and datasets."""
    monkeypatch.setenv("INCLUSION_BATCH_FILES", "8")  # several batches per dataset
    for case in CASES:
        drop(preloaded, case["partner"], case["file"], (CORPUS / case["file"]).read_bytes())
    batches = plan_batches(scan_inboxes())
    assert len(batches) > len({c["file"].split("_")[0] for c in CASES})
    assert max(len(b["fichiers"]) for b in batches) == 8
    outcomes = {o.file: o for batch in batches for o in process_files(
        [(c["partner"], c["path"]) for c in batch["fichiers"]])}
    for case in CASES:
        report = (preloaded / "inbox" / case["partner"] / f"{case['file']}.rapport.txt") \
            .read_text(encoding="utf-8")
        assert outcomes[case["file"]].status == case["status"], report
        for message in case["messages"]:
            assert message in report, f"{case['file']}: {message!r} not in report:\n{report}"


def test_corpus_covers_at_least_thirty_bad_files():
    assert len(CASES) >= 30
    assert {p.name for p in CORPUS.iterdir()} >= {c["file"] for c in CASES}


def _workshop_xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Ateliers"
    sheet.append(WORKSHOP_HEADER.split(";"))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _comparable(rows):
    drop_cols = ["source_sha256", "source_received_at", "source_line"]
    return rows.drop(columns=drop_cols).sort_values("identifiant_seance").reset_index(drop=True)


@pytest.mark.parametrize("name, payload", [
    ("ateliers.csv", f"{WORKSHOP_HEADER}\n{WORKSHOP_ROW}\n".encode("utf-8")),
    ("ateliers_bom.csv", f"{WORKSHOP_HEADER}\n{WORKSHOP_ROW}\n".encode("utf-8-sig")),
    ("ateliers_windows.csv", f"{WORKSHOP_HEADER}\r\n{WORKSHOP_ROW}\r\n".encode("cp1252")),
    ("ateliers_tab.tsv", f"{WORKSHOP_HEADER}\n{WORKSHOP_ROW}\n".replace(";", "\t").encode()),
    ("ateliers.xlsx", None),
])
def test_good_files_in_every_format_load_the_same_rows(corpus_env, name, payload, tmp_path):
    if payload is None:
        from datetime import datetime, time
        cells = WORKSHOP_ROW.split(";")
        cells[4], cells[5] = datetime(2026, 1, 12), time(14, 30)
        cells[6:8] = [60, cells[7]]
        cells[9:12] = [10, 8, 7]
        payload = _workshop_xlsx([cells])
    outcome, report = ingest(corpus_env, "ville-palaiseau", name, payload)
    assert outcome.status == ledger.STATUS_ACCEPTED, report
    rows = _comparable(warehouse.current_rows("ateliers"))
    assert rows.loc[0, "lieu"] == "Médiathèque George Sand"
    assert (rows.loc[0, "date"], rows.loc[0, "heure_debut"], rows.loc[0, "places"]) == (
        "2026-01-12", "14:30", 10)
    assert (rows.loc[0, "thematique"], rows.loc[0, "statut"]) == ("smartphone", "realisee")


def test_corrupt_xlsx_and_zip_bomb_are_refused(corpus_env):
    _, report = ingest(corpus_env, "ville-palaiseau", "ateliers.xlsx", b"PK\x03\x04garbage")
    assert "endommagé" in report
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 50_000_000)
    _, report = ingest(corpus_env, "ville-palaiseau", "bombe.xlsx", bomb.getvalue())
    assert "anormalement compressé" in report


def test_oversize_file_is_refused(corpus_env, monkeypatch):
    monkeypatch.setenv("INCLUSION_MAX_CSV_MB", "0.001")
    _, report = ingest(corpus_env, "ville-palaiseau", "ateliers.csv",
                       f"{WORKSHOP_HEADER}\n{WORKSHOP_ROW}\n".encode() * 30)
    assert "Le fichier est trop gros" in report


def test_links_folders_and_half_written_files_are_not_read(corpus_env, monkeypatch, tmp_path):
    inbox = corpus_env / "inbox" / "ville-palaiseau"
    inbox.mkdir(parents=True)
    secret = tmp_path / "secret.csv"
    secret.write_text("ne pas lire")
    os.symlink(secret, inbox / "raccourci.csv")
    (inbox / "sous-dossier").mkdir()
    (inbox / "ateliers.csv.part").write_text("en cours")
    (inbox / "~$ateliers.xlsx").write_text("verrou Excel")
    (inbox / "frais.csv").write_text(f"{WORKSHOP_HEADER}\n{WORKSHOP_ROW}\n")
    monkeypatch.setenv("INCLUSION_SETTLE_SECONDS", "60")  # frais.csv was written just now
    refusals: list = []
    assert scan_inboxes(refusals=refusals) == []
    report_refusals(refusals)
    assert {r.name for r in refusals} == {"raccourci.csv", "sous-dossier"}
    assert "lien symbolique" in (inbox / "raccourci.csv.rapport.txt").read_text(encoding="utf-8")
    assert "c'est un dossier" in (inbox / "sous-dossier.rapport.txt").read_text(encoding="utf-8")
    monkeypatch.setenv("INCLUSION_SETTLE_SECONDS", "0")
    assert [Path(c.path).name for c in scan_inboxes()] == ["frais.csv"]
    assert secret.read_text() == "ne pas lire"


def _sessions(*rows: tuple[str, str, str]) -> bytes:
    lines = [WORKSHOP_HEADER]
    for session_id, status, attended in rows:
        lines.append(WORKSHOP_ROW.replace("S1;", f"{session_id};")
                     .replace(";7;Réalisée;", f";{attended};{status};"))
    return ("\n".join(lines) + "\n").encode()


FIRST = _sessions(("S1", "Réalisée", "7"), ("S2", "Réalisée", "5"))
CORRECTION = _sessions(("S2", "Réalisée", "6"), ("S3", "Annulée", ""))


def _drop_at(data_dir, name, payload, mtime):
    path = drop(data_dir, "ville-palaiseau", name, payload)
    os.utime(path, (mtime, mtime))
    return path


def test_correction_supersedes_exactly_the_rows_it_replaces(corpus_env):
    first = process_files([("ville-palaiseau",
                            str(_drop_at(corpus_env, "a.csv", FIRST, 1_767_000_000)))])[0]
    second = process_files([("ville-palaiseau",
                             str(_drop_at(corpus_env, "b.csv", CORRECTION, 1_767_100_000)))])[0]
    rows = warehouse.all_rows("ateliers").set_index(["identifiant_seance", "source_sha256"])
    current = warehouse.current_rows("ateliers").set_index("identifiant_seance")
    assert sorted(current.index) == ["S1", "S2", "S3"]
    assert current.loc["S1", "source_sha256"] == first.sha256
    assert current.loc["S2", "presents"] == 6 and current.loc["S2", "source_sha256"] == second.sha256
    assert current.loc["S3", "statut"] == "annulee"
    old = rows.loc[("S2", first.sha256)]
    assert (old["current"], old["superseded_by"]) == (0, second.sha256)  # kept, not deleted
    assert len(rows) == 4


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_same_files_in_any_order_give_the_same_warehouse(corpus_env, order):
    files = {"a": ("a.csv", FIRST, 1_767_000_000), "b": ("b.csv", CORRECTION, 1_767_100_000)}
    for key in order:
        process_files([("ville-palaiseau", str(_drop_at(corpus_env, *files[key])))])
    current = warehouse.current_rows("ateliers").set_index("identifiant_seance")
    assert current.loc["S2", "presents"] == 6  # the later file wins, whatever the order
    assert sorted(current.index) == ["S1", "S2", "S3"]
    assert len(warehouse.all_rows("ateliers")) == 4


def test_quarantined_file_can_be_reprocessed_after_a_fix(corpus_env, monkeypatch):
    from pipeline.cli import main

    outcome, _ = ingest(corpus_env, "ville-palaiseau", "ateliers_commune.csv",
                        (CORPUS / "ateliers_commune_non_desservie.csv").read_bytes())
    assert outcome.status == ledger.STATUS_REJECTED
    fixed = (CORPUS / "territory.toml").read_text(encoding="utf-8").replace(
        'communes = ["91477"]\ndatasets = ["ateliers"]',
        'communes = ["91477", "91377"]\ndatasets = ["ateliers"]')
    territory = corpus_env / "territory.toml"
    territory.write_text(fixed, encoding="utf-8")
    monkeypatch.setenv("INCLUSION_TERRITORY", str(territory))
    assert main(["reprocess", "ville-palaiseau", outcome.sha256[:12]]) == 0
    again = process_files([("ville-palaiseau", str(corpus_env / "inbox" / "ville-palaiseau" /
                                                 "ateliers_commune.csv"))])[0]
    assert again.status == ledger.STATUS_ACCEPTED and not again.duplicate
    assert [e.status for e in ledger.entries() if e.sha256 == outcome.sha256] == [
        ledger.STATUS_ACCEPTED]
    shutil.rmtree(corpus_env / "quarantine", ignore_errors=True)


def test_partner_mapping_reads_its_own_layout_and_names_what_it_does_not_cover(data_dir):
    """ville-orsay (territory.toml) exports its own headers, labels, dates and daily hours."""
    from datetime import date

    from demo.samples import _orsay_export

    payload = _orsay_export(date(2026, 11, 25)).decode("cp1252")
    outcome, report = ingest(data_dir, "ville-orsay", "guichets.csv", payload.encode("cp1252"))
    assert outcome.status == ledger.STATUS_ACCEPTED_WITH_WARNINGS, report  # phones converted
    venues = warehouse.current_rows("lieux").set_index("id")
    first = venues.loc["ORS-1"]
    assert first["nom"] == "Guichet numérique de l'Hôtel de ville"
    assert first["date_maj"] == "2026-11-13"
    assert first["horaires"] == ("Mo 09:00-12:00,14:00-17:00; Tu 09:00-12:00; "
                                 "Th 09:00-12:00,14:00-17:00; Fr 09:00-12:00")
    assert venues.loc["ORS-2", "publics_specifiquement_adresses"] == "Seniors"
    assert venues.loc["ORS-2", "services"] == ("Maîtrise des outils numériques du quotidien|"
                                               "Insertion professionnelle via le numérique")
    payload = payload.replace("Démarches, Sécurité", "Démarches, Jardinage")
    outcome, report = ingest(data_dir, "ville-orsay", "guichets_2.csv", payload.encode("cp1252"))
    assert outcome.status == ledger.STATUS_REJECTED  # "Jardinage" is in no list
    # The report names the partner's own column, the one they will look for.
    assert "Ligne 2, colonne « Services proposés », valeur « Jardinage »" in report
    assert "absente de votre table de correspondance" in report
    assert "Colonnes non reconnues, ignorées : « Remarque interne »" in report


def test_a_listed_file_that_is_gone_is_skipped_not_retried(data_dir, caplog):
    (data_dir / "inbox" / "ville-palaiseau").mkdir(parents=True)
    gone = data_dir / "inbox" / "ville-palaiseau" / "x.csv"
    assert process_files([("ville-palaiseau", str(gone))]) == []  # no outcome, no failure
    assert "n'est plus dans le dossier de dépôt" in caplog.text
    assert ledger.entries() == []


def test_an_unexpected_error_on_one_file_does_not_stop_the_rest_of_its_batch(
        corpus_env: Path, monkeypatch: pytest.MonkeyPatch):
    from pipeline.ingest import flow, screen

    good = drop(corpus_env, "ville-palaiseau", "a.csv", f"{WORKSHOP_HEADER}\n{WORKSHOP_ROW}\n"
                .encode())
    crashing = drop(corpus_env, "ville-palaiseau", "b.csv", f"{WORKSHOP_HEADER}\n"
                    f"{WORKSHOP_ROW.replace('S1;', 'S2;')}\n".encode())
    real_read = screen._read

    def read_or_crash(path, *args):
        if path.name == "b.csv":
            raise OSError("disque illisible")
        return real_read(path, *args)

    monkeypatch.setattr(screen, "_read", read_or_crash)
    with pytest.raises(flow.BatchIncomplete, match="ville-palaiseau/b.csv"):
        process_files([("ville-palaiseau", str(good)), ("ville-palaiseau", str(crashing))])
    assert not good.exists() and crashing.exists()  # the good one went through
    assert [e.original_name for e in ledger.entries()] == ["a.csv"]

    monkeypatch.setattr(screen, "_read", real_read)  # the next attempt, once fixed
    (outcome,) = process_files([("ville-palaiseau", str(good)), ("ville-palaiseau", str(crashing))])
    assert outcome.file == "b.csv" and outcome.rows_loaded == 1
