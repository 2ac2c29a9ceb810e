"""pages/exports.py and pages/csv_cells.py: the venue directory as CSV and JSON in the national
schema — sorted by id, formula-safe in the CSV, empty for missing values, one record per row —
and a cache key that changes exactly when the content would."""

from __future__ import annotations

import csv
import io
import json
import math

import pandas as pd

from pages.csv_cells import csv_cell
from pages.exports import venue_downloads, venues_csv, venues_json
from pipeline.contracts.venues import STANDARD_VERSION, VENUES


def directory(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame([{"id": "", "nom": "", "code_insee": "91477", **row} for row in rows])


HOSTILE = directory(
    {"id": "lieu-2", "nom": '=HYPERLINK("https://evil.example","Cliquez")',
     "telephone": "+33169310000", "latitude": -2.5, "presentation_resume": "Ligne 1\rLigne 2"},
    {"id": "lieu-1", "nom": "Médiathèque George Sand", "telephone": "+33 (0)1 69 31|calc",
     "latitude": math.nan, "presentation_resume": None})


def test_csv_has_the_schema_header_rows_by_id_and_neutralised_formulas():
    header, *rows = csv.reader(io.StringIO(venues_csv(HOSTILE)))
    assert header == VENUES.column_names
    records = [dict(zip(header, row)) for row in rows]
    assert [r["id"] for r in records] == ["lieu-1", "lieu-2"]
    first, second = records
    assert second["nom"] == '\'=HYPERLINK("https://evil.example","Cliquez")'
    assert second["telephone"] == "+33169310000"  # a phone number as the schema writes it
    assert first["telephone"] == "'+33 (0)1 69 31|calc"  # not a phone number: neutralised
    assert second["latitude"] == "-2.5"  # a number is data, not a formula
    assert second["presentation_resume"] == "Ligne 1\nLigne 2"  # quoted, one record
    assert first["latitude"] == "" and first["presentation_resume"] == ""
    assert first["pivot"] == ""  # a column the partner did not send


def test_csv_cell_turns_missing_values_to_empty_and_keeps_numbers():
    assert csv_cell(None) == "" and csv_cell(math.nan) == ""
    assert csv_cell(0) == 0 and csv_cell(-3) == -3
    assert csv_cell("@SUM(A1:A9)") == "'@SUM(A1:A9)"
    assert csv_cell("a\r\nb\rc") == "a\nb\nc"


def test_json_keeps_values_as_sent_with_empty_strings_for_missing_ones():
    document = json.loads(venues_json(HOSTILE))
    assert (document["version"], document["licence"]) == (STANDARD_VERSION, "Licence Ouverte 2.0")
    assert [v["id"] for v in document["lieux"]] == ["lieu-1", "lieu-2"]
    first, second = document["lieux"]
    assert list(first) == VENUES.column_names
    assert second["nom"] == '=HYPERLINK("https://evil.example","Cliquez")'  # JSON runs nothing
    assert first["latitude"] == "" and first["presentation_resume"] == "" and first["pivot"] == ""
    assert second["latitude"] == -2.5
    assert "Médiathèque" in venues_json(HOSTILE)  # UTF-8 text, not \u escapes


def test_download_keys_follow_content_not_row_order():
    keys = {name: d.key for name, d in venue_downloads(HOSTILE).items()}
    assert set(keys) == {"lieux.csv", "lieux.json"}
    assert keys["lieux.csv"].startswith(f"csv:{STANDARD_VERSION}:2:")
    reordered = venue_downloads(HOSTILE.iloc[::-1].reset_index(drop=True))
    assert {n: d.key for n, d in reordered.items()} == keys
    changed = HOSTILE.copy()
    changed.loc[1, "nom"] = "Médiathèque George-Sand"
    assert venue_downloads(changed)["lieux.csv"].key != keys["lieux.csv"]
    assert venue_downloads(HOSTILE)["lieux.csv"].render() == venues_csv(HOSTILE)


def test_an_empty_directory_gives_a_header_only_csv_and_an_empty_list():
    empty = pd.DataFrame(columns=["id", "nom"])
    downloads = venue_downloads(empty)
    assert downloads["lieux.json"].key == f"json:{STANDARD_VERSION}:0:0"
    assert downloads["lieux.csv"].render() == ",".join(VENUES.column_names) + "\n"
    assert json.loads(downloads["lieux.json"].render())["lieux"] == []
