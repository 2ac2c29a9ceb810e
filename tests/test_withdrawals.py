"""pipeline/ingest/withdrawals.py on its own: what a withdrawal file asks (``read_request``)
and its recording (``record``): rows out of the warehouse, a ledger row, a French report.
(tests/test_corrections.py covers withdrawals through the inbox: history, late files, other
partners' rows, atomicity, the steward's command.)"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from test_ingest_corpus import WORKSHOP_HEADER, WORKSHOP_ROW, drop
from test_inbox import PARTNER, env  # noqa: F401 (fixture)

from pipeline.config import data_paths, load_territory
from pipeline.files import sha256_of
from pipeline.ingest import withdrawals
from pipeline.ingest.flow import process_files
from pipeline.ingest.record import Received
from pipeline.load import ledger, warehouse

MOMENT = 1_767_000_000


def load_sessions(data: Path, *ids: str) -> None:
    rows = [WORKSHOP_ROW.replace("S1;", f"{i};") for i in ids]
    path = drop(data, PARTNER, "ateliers.csv", "\n".join([WORKSHOP_HEADER, *rows, ""]).encode())
    os.utime(path, (MOMENT, MOMENT))
    (outcome,) = process_files([(PARTNER, str(path))])
    assert outcome.rows_loaded == len(ids)


def received(data: Path, name: str, text: str) -> Received:
    path = drop(data, PARTNER, name, text.encode("utf-8"))
    os.utime(path, (MOMENT + 60, MOMENT + 60))
    return Received(load_territory().partner(PARTNER), path, sha256_of(path),
                    datetime.fromtimestamp(MOMENT + 60, UTC))


def current_ids() -> list[str]:
    return sorted(warehouse.current_rows("ateliers")["identifiant_seance"])


def test_a_withdrawal_removes_the_named_rows_is_recorded_and_reported(env: Path):
    load_sessions(env, "S1", "S2", "S3")
    file = received(env, "retrait_ateliers.csv", "identifiant_seance;motif\nS3;doublon\nS1;\n")

    outcome = withdrawals.record(file, load_territory(), data_paths())

    assert (outcome.status, outcome.rows_loaded, outcome.errors) == (
        ledger.STATUS_WITHDRAWN, 2, 0)
    assert current_ids() == ["S2"]
    entry = ledger.find(PARTNER, file.sha256)
    assert (entry.dataset, entry.status, entry.rows_total, entry.rows_loaded) == (
        "ateliers", ledger.STATUS_WITHDRAWN, 2, 2)
    assert entry.stored_path.startswith(f"archive/{PARTNER}/")
    report = (file.path.parent / "retrait_ateliers.csv.rapport.txt").read_text(encoding="utf-8")
    assert report == entry.report
    assert "Identifiants lus : 2 — lignes retirées : 2 — avertissements : 0" in report
    assert "  - ligne 2 : « S3 » (envoyée dans le fichier « ateliers.csv »" in report
    assert "  - ligne 3 : « S1 »" in report
    assert not file.path.exists() and (env / entry.stored_path).exists()


def test_an_unknown_id_is_a_french_warning_and_the_others_are_still_withdrawn(env: Path):
    load_sessions(env, "S1", "S2")
    file = received(env, "retrait_ateliers.csv", "identifiant_seance\nS2\nS9\n")

    outcome = withdrawals.record(file, load_territory(), data_paths())

    assert (outcome.status, outcome.rows_loaded, outcome.warnings) == (
        ledger.STATUS_WITHDRAWN_WITH_WARNINGS, 1, 1)
    assert current_ids() == ["S1"]
    report = ledger.find(PARTNER, file.sha256).report
    assert ("• Aucune ligne de vos envois ne porte cet identifiant : rien n'a été retiré.\n"
            "  Comment corriger : Vérifiez l'identifiant, tel qu'il figure dans vos fichiers.\n"
            "  - Ligne 3, colonne « identifiant_seance », valeur « S9 »") in report


def test_a_list_without_the_key_column_withdraws_nothing_and_says_which_column(env: Path):
    load_sessions(env, "S1")
    file = received(env, "retrait_ateliers.csv", "numero\nS1\n")

    request = withdrawals.read_request(file.path, file.partner)
    assert request.keys == {}
    assert [p.rule for p in request.problems] == [
        "La colonne « identifiant_seance » (les identifiants des lignes à retirer) est absente."]

    outcome = withdrawals.record(file, load_territory(), data_paths())
    assert outcome.status == ledger.STATUS_REJECTED and current_ids() == ["S1"]
    assert ledger.find(PARTNER, file.sha256).stored_path.startswith(f"quarantine/{PARTNER}/")


def test_keys_typed_as_numbers_are_read_as_written_with_their_lines(env: Path):
    file = received(env, "retrait_ateliers.csv", "identifiant_seance\n12\n\n12\n7\n")
    request = withdrawals.read_request(file.path, file.partner)
    assert (request.dataset, request.keys, request.problems) == ("ateliers",
                                                                 {"12": 2, "7": 5}, [])
