"""Reading partner files: encodings, delimiters, XLSX, French dates, times and numbers."""

from __future__ import annotations

import io
from datetime import datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from pipeline.contracts.datasets import WORKSHOPS
from pipeline.contracts.model import normalize_header
from pipeline.read.reading import (map_headers, parse_date, parse_integer, parse_time,
                                   read_partner_file)
from pipeline.read.unreadable import UnreadableFile

HEADER = "identifiant_seance;commune;lieu;date;heure_debut;duree_minutes;thematique;public;places;inscrits;presents;statut;inscription"
ROW = "S1;91477;Médiathèque George Sand;31/01/2026;14h30;60;Prise en main du smartphone;Seniors;10;8;7;Réalisée;Mairie, 01 00 00 00 00"


def write(tmp_path, name, payload: bytes):
    path = tmp_path / name
    path.write_bytes(payload)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_csv_in_any_encoding_and_delimiter_reads_the_same(tmp_path, encoding, delimiter):
    text = f"{HEADER}\n{ROW}\n".replace(";", delimiter)
    if delimiter == ",":
        text = text.replace("Mairie, 01", '"Mairie, 01').replace("00 00\n", '00 00"\n')
    path = write(tmp_path, "f.csv", text.encode(encoding))
    result = read_partner_file(path, WORKSHOPS)
    row = result.frame.iloc[0]
    assert result.problems == [] and result.unknown_columns == []
    assert row["lieu"] == "Médiathèque George Sand"
    assert row["date"] == "2026-01-31"
    assert row["heure_debut"] == "14:30"
    assert row["thematique"] == "smartphone" and row["statut"] == "realisee"
    assert row["places"] == 10 and row["presents"] == 7
    assert row["inscription"] == "Mairie, 01 00 00 00 00"
    assert row["_ligne"] == 2


def test_header_variants_map_to_the_contract_and_unknown_columns_are_listed():
    headers = [" Identifiant de la séance ", "COMMUNE", "Durée (minutes)", "Présents", "Remarque"]
    mapping, unknown = map_headers(headers, WORKSHOPS)
    assert mapping == {" Identifiant de la séance ": "identifiant_seance", "COMMUNE": "commune",
                       "Durée (minutes)": "duree_minutes", "Présents": "presents"}
    assert unknown == ["Remarque"]
    assert normalize_header("  Heure de début ") == "heure_de_debut"


@pytest.mark.parametrize("raw, expected", [
    ("31/01/2026", "2026-01-31"), ("31/01/26", "2026-01-31"), ("2026-01-31", "2026-01-31"),
    (datetime(2026, 1, 31, 0, 0), "2026-01-31"), ("31/13/2026", None), ("demain", None)])
def test_dates(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("14h30", "14:30"), ("14:30", "14:30"), ("9h", "09:00"), ("14H05", "14:05"),
    (time(9, 30), "09:30"), ("14:30:00", "14:30"), ("25h00", None), ("midi", None)])
def test_times(raw, expected):
    assert parse_time(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("12", 12), ("1 200", 1200), ("1\u202f200", 1200), ("12,0", 12), (12.0, 12),
    ("12,5", None), ("douze", None)])
def test_integers(raw, expected):
    assert parse_integer(raw) == expected


def test_xlsx_with_excel_dates_times_and_label_headers(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([c.label for c in WORKSHOPS.columns])
    sheet.append(["S1", "91477", "Médiathèque", None, datetime(2026, 1, 31), time(14, 30), 60,
                  "Accès aux services en ligne", "Jeunes", 12, 12, None, "Prévue", "Mairie"])
    sheet.append([None] * len(WORKSHOPS.columns))  # an empty row left by the spreadsheet
    buffer = io.BytesIO()
    workbook.save(buffer)
    path = write(tmp_path, "export.xlsx", buffer.getvalue())
    result = read_partner_file(path, WORKSHOPS)
    assert len(result.frame) == 1
    row = result.frame.iloc[0]
    assert (row["date"], row["heure_debut"], row["thematique"], row["statut"]) == (
        "2026-01-31", "14:30", "services-en-ligne", "prevue")


def test_unreadable_integer_is_a_reading_problem_with_its_line(tmp_path):
    text = f"{HEADER}\n{ROW}\n{ROW.replace('S1;', 'S2;').replace(';10;8;', ';dix;8;')}\n"
    result = read_partner_file(write(tmp_path, "f.csv", text.encode()), WORKSHOPS)
    assert [(p.line, p.column, p.value) for p in result.problems] == [(3, "places", "dix")]


def test_empty_file_is_unreadable(tmp_path):
    with pytest.raises(UnreadableFile):
        read_partner_file(write(tmp_path, "vide.csv", b""), WORKSHOPS)


def test_cells_changed_by_conversion_are_kept_as_written_and_only_those(tmp_path):
    """Problems quote the partner's own writing; only converted cells are kept, one small
    code per row (a categorical), so that a file of millions of rows stays affordable."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([c.label for c in WORKSHOPS.columns])
    for number in (1, 2):
        sheet.append([f"S{number}", "91477", "Médiathèque", None, datetime(2026, 1, 31),
                      time(14, 30), "1 200" if number == 2 else 60, "Jeunes", "Jeunes", 12, 12,
                      None, "Prévue", "Mairie"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = read_partner_file(write(tmp_path, "export.xlsx", buffer.getvalue()), WORKSHOPS)
    assert set(result.written) == {"date", "duree_minutes", "public", "statut"}
    assert all(str(raw.dtype) == "category" for raw in result.written.values())
    assert result.as_written("date", 3, "2026-01-31") == "31/01/2026"  # as the sheet shows it
    assert result.as_written("duree_minutes", 3, "1200") == "1 200"
    assert result.as_written("duree_minutes", 2, "60") == "60"  # unchanged cell
    assert result.as_written("statut", 2, "Prévue est refusée") == "Prévue est refusée"  # computed


def test_csv_rows_ending_with_extra_empty_cells_keep_their_columns(tmp_path):
    text = f"{HEADER}\n{ROW};\n{ROW.replace('S1;', 'S2;')}\n"
    result = read_partner_file(write(tmp_path, "f.csv", text.encode()), WORKSHOPS)
    assert list(result.frame["identifiant_seance"]) == ["S1", "S2"]
    assert result.problems == [] and result.unknown_columns == []


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=';,"\n\r\taé 1|', max_size=80))
def test_any_csv_body_is_read_or_refused_in_french_never_crashes(tmp_path_factory, body):
    """Jammed rows, stray or unclosed quotes, short rows: the file gets a report (read, or
    UnreadableFile with its French reason), never an unexpected error that would leave it in
    the inbox and fail the task at every scan."""
    from pipeline.read.reading import read_cells, read_cells_into_contract

    path = tmp_path_factory.mktemp("corps") / "ateliers.csv"
    path.write_bytes(f"{HEADER}\n{body}".encode())
    try:
        cells, _encoding, _delimiter = read_cells(path, "ateliers")
    except UnreadableFile as refusal:
        assert str(refusal)
        return
    read_cells_into_contract(cells, WORKSHOPS)
