"""`bench.versus` compares two versions only when both reached the same result: what it reads
from a finished run's data folder, and the differences it reports."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.versus import differences, format_lines, outcome


def _run_folder(root: Path, archived: list[str], quarantined: list[str],
                rows: dict[str, int]) -> Path:
    data = root / "data"
    for area, names in (("archive", archived), ("quarantine", quarantined)):
        for name in names:
            partner, file = name.split("/")
            folder = data / area / partner
            folder.mkdir(parents=True, exist_ok=True)
            # The fingerprint prefix differs between versions that name files differently.
            (folder / f"{abs(hash(root)) % 10**8:08x}__{file}").write_text("x")
            (folder / f"{file}.rapport.txt").write_text("rapport")
    (data / "warehouse").mkdir(parents=True)
    with sqlite3.connect(data / "warehouse" / "entrepot.sqlite") as connection:
        for table, count in rows.items():
            connection.execute(f'CREATE TABLE "{table}" (id INTEGER)')
            connection.executemany(f'INSERT INTO "{table}" VALUES (?)',
                                   [(n,) for n in range(count)])
    return data


def test_two_runs_with_the_same_files_and_rows_agree(tmp_path):
    files = ["ateliers-001/a.csv", "pass-002/b.xlsx"]
    first = outcome(_run_folder(tmp_path / "a", files, [], {"ateliers": 3, "pass": 5}))
    # A table only one version has (a newer contract) is not compared.
    second = outcome(_run_folder(tmp_path / "b", files, [],
                                 {"ateliers": 3, "pass": 5, "collecteurs": 2}))
    assert first["archived"] == ["a.csv", "b.xlsx"]
    assert differences(first, second) == []


def test_a_missing_row_or_a_file_quarantined_on_one_side_is_reported(tmp_path):
    first = outcome(_run_folder(tmp_path / "a", ["lieux-001/l.csv", "pass-002/p.csv"], [],
                                {"lieux": 10, "pass": 4}))
    second = outcome(_run_folder(tmp_path / "b", ["lieux-001/l.csv"], ["pass-002/p.csv"],
                                 {"lieux": 9, "pass": 4}))
    found = differences(first, second)
    assert "archived : 2 fichiers contre 1" in found
    assert "quarantined : 0 fichiers contre 1" in found
    assert "table lieux : 10 lignes contre 9" in found
    result = {"runs": [], "base": "65b392f", "medians_s": {"actuel": 40.0, "65b392f": 100.0},
              "ratio": 0.4, "same_outcome": False, "differences": found}
    assert format_lines(result)[-1].startswith("Même résultat des deux côtés : NON")
    assert "0.40×" in format_lines(result)[-2]
