"""Files larger than one chunk (pipeline/chunks.py): read, validated and loaded a chunk at a
time, they give the same warehouse rows and the same report as when read in one piece; an
error in the last chunk still rejects the whole file; a workbook that declares a million rows
and sixteen thousand columns is read for what it holds."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import PatternFill
from test_ingest_corpus import CASES, CORPUS, drop

from pipeline.ingest.flow import process_files
from pipeline.load import ledger, warehouse
from pipeline.read.reading import open_cells

PASS_HEADER = ("numero_pass;numero_carnet;valeur_euros;date_distribution;prescripteur;commune;"
               "date_utilisation;lieu_utilisation")


def _pass_row(number: int, date: str = "05/01/2026", value: str = "10") -> str:
    return (f"PN-{number:06d};C-{number // 10:04d};{value};{date};CCAS de Massy;91377;"
            f"10/01/2026;lieu-91477-01")


def _passes(rows: list[str]) -> bytes:
    return ("\n".join([PASS_HEADER, *rows]) + "\n").encode("cp1252")


def _run(folder: Path, monkeypatch: pytest.MonkeyPatch, chunk_rows: int,
         files: list[tuple[str, str, bytes]]) -> tuple[dict[str, str], dict[str, list]]:
    """Each file processed in order in a fresh data folder: reports (without the time of
    receipt) and every warehouse row (without it either)."""
    monkeypatch.setenv("INCLUSION_DATA", str(folder))
    monkeypatch.setenv("INCLUSION_CHUNK_ROWS", str(chunk_rows))
    reports = {}
    for partner, name, payload in files:
        path = drop(folder, partner, name, payload)
        process_files([(partner, str(path))])[0]
        report = (path.parent / f"{name}.rapport.txt").read_text(encoding="utf-8")
        reports[name] = re.sub(r"Reçu le : .*", "", report)
    rows = {}
    for dataset in warehouse.DATASET_TABLES:
        frame = warehouse.all_rows(dataset).drop(columns=["source_received_at"])
        rows[dataset] = sorted(map(repr, frame.to_dict("records")))
    return reports, rows


def _lieux_first(corpus_env: Path) -> list[tuple[str, str, bytes]]:
    venues = ("id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj,services\n"
              "lieu-91477-01,21910477700019,Médiathèque George Sand,Palaiseau,91120,91477,"
              "1 place de la Mairie,2026-01-15,Aide aux démarches administratives\n")
    pickups = ("identifiant_collecte;date;commune;point_collecte;telephones_collectes\n"
               "COL-1;01/02/2026;91471;Mairie d'Orsay;30\n")
    return [("agglo-lieux", "lieux.csv", venues.encode()),
            ("orange-collecte", "collecte.csv", pickups.encode())]


@pytest.fixture
def corpus_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INCLUSION_TERRITORY", str(CORPUS / "territory.toml"))
    return tmp_path


@pytest.mark.heavy  # the whole corpus through Great Expectations twice
def test_every_corpus_file_read_a_row_at_a_time_gets_the_same_report_and_rows(
        corpus_env: Path, monkeypatch: pytest.MonkeyPatch):
    files = _lieux_first(corpus_env) + [
        (case["partner"], case["file"], (CORPUS / case["file"]).read_bytes()) for case in CASES]
    whole = _run(corpus_env / "entier", monkeypatch, 50_000, files)
    chunked = _run(corpus_env / "morceaux", monkeypatch, 1, files)
    assert chunked[1] == whole[1]
    for name, report in whole[0].items():
        assert chunked[0][name] == report, name


def _large_pass_file() -> bytes:
    """500 passes: 239 unreadable dates (far more than a report details), a key repeated
    across chunks, a value out of bounds, blank lines in the middle."""
    rows = []
    for number in range(500):
        date = "le 5 janvier" if number % 2 and number < 480 else "05/01/2026"
        rows.append(_pass_row(number, date=date))
    rows[7] = _pass_row(3)             # line 9 repeats line 5's key (another chunk)
    rows[100] = _pass_row(100, value="1000")
    rows[50:50] = ["", ";;;;;;;"]
    return _passes(rows)


@pytest.mark.heavy  # a file of several chunks through Great Expectations twice
def test_a_file_larger_than_a_chunk_gets_the_same_report_and_rows(
        corpus_env: Path, monkeypatch: pytest.MonkeyPatch):
    files = _lieux_first(corpus_env) + [
        ("ccas-massy", "pass_gros.csv", _large_pass_file()),
        ("ccas-massy", "pass_bon.csv", _passes([_pass_row(n) for n in range(200, 260)]))]
    whole = _run(corpus_env / "entier", monkeypatch, 50_000, files)
    for chunk_rows in (13, 120):
        chunked = _run(corpus_env / f"morceaux-{chunk_rows}", monkeypatch, chunk_rows, files)
        assert chunked == whole
    report = whole[0]["pass_gros.csv"]
    assert "Ligne 5, colonne « numero_pass », valeur « PN-000003 »" in report
    assert "Ligne 9, colonne « numero_pass », valeur « PN-000003 »" in report
    assert "… et 189 autres lignes avec ce problème." in report  # 239 dates, 50 detailed
    assert len(whole[1]["pass"]) == 60  # the good file only


def test_an_error_in_the_last_chunk_rejects_the_whole_file(
        corpus_env: Path, monkeypatch: pytest.MonkeyPatch):
    rows = [_pass_row(n) for n in range(40)] + [_pass_row(40, value="mille")]
    reports, rows_after = _run(corpus_env, monkeypatch, 4, _lieux_first(corpus_env)
                               + [("ccas-massy", "pass_fin.csv", _passes(rows))])
    assert rows_after["pass"] == []
    assert "Ligne 42, colonne « valeur_euros », valeur « mille »" in reports["pass_fin.csv"]
    entry = next(e for e in ledger.entries() if e.original_name == "pass_fin.csv")
    assert (entry.status, entry.rows_total, entry.rows_loaded) == (ledger.STATUS_REJECTED, 41, 0)
    assert not list(Path(corpus_env / "archive").glob("*/*pass_fin.csv"))


def _workbook_formatted_to_the_last_cell() -> bytes:
    """What a spreadsheet user gets by formatting whole rows and columns: a few real rows, a
    header row styled to column XFD, a column styled down to row 1,048,576, so the sheet
    declares A1:XFD1048576."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Pass"
    fill = PatternFill("solid", fgColor="FFFF00")
    sheet.append(PASS_HEADER.split(";"))
    for number in range(20):
        sheet.append(_pass_row(number).split(";"))
    for column in range(9, 16_385, 7):      # the header row's format, across every column
        sheet.cell(row=1, column=column).fill = fill
    for row in range(30, 1_048_577, 9973):  # the first column's format, down to the last row
        sheet.cell(row=row, column=1).fill = fill
    sheet.cell(row=1_048_576, column=16_384).fill = fill
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_workbook_declaring_a_million_rows_is_read_for_what_it_holds(
        corpus_env: Path, monkeypatch: pytest.MonkeyPatch):
    payload = _workbook_formatted_to_the_last_cell()
    path = corpus_env / "pass.xlsx"
    path.write_bytes(payload)
    monkeypatch.setenv("INCLUSION_CHUNK_ROWS", "8")
    chunks = list(open_cells(path, "pass").chunks())
    assert [chunk.first_line for chunk in chunks] == [2, 10, 18]
    assert sum(chunk.cells.size for chunk in chunks) == 20 * 8  # 20 rows of 8 named columns
    reports, rows = _run(corpus_env / "donnees", monkeypatch, 8, _lieux_first(corpus_env)
                         + [("ccas-massy", "pass.xlsx", payload)])
    assert len(rows["pass"]) == 20, reports["pass.xlsx"]
