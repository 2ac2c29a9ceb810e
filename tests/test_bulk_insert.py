"""The warehouse's bulk insert (tuples through the driver's executemany) stores exactly what
the row-by-row SQLAlchemy insert it replaced stored: missing values as NULL, keys as text,
decimals and integers as numbers, and the supersede bookkeeping."""

from __future__ import annotations

import math

import pandas as pd
from sqlalchemy import create_engine

from pipeline.contracts.datasets import VOUCHERS
from pipeline.load import warehouse

ROWS = [
    # numero_pass, numero_carnet, valeur_euros, date_distribution, prescripteur, commune,
    # date_utilisation, lieu_utilisation
    (1001, "C-1", 10.0, "2026-01-05", "CCAS", "23096", None, None),
    ("P-2", None, 12.5, "2026-01-06", None, "23096", "2026-02-01", "Médiathèque\tcentre"),
    ("P-3", "C-2", float("nan"), "2026-01-07", "Mairie", None, float("nan"), ""),
    ("P-4", "C\\3", 0.1 + 0.2, "2026-01-08", "France Services\n2e étage", "23001", None,
     "Lieu ; « guillemets »"),
]


def _frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=VOUCHERS.column_names)
    frame["_ligne"] = range(2, len(frame) + 2)
    return frame


def _row_by_row(frame: pd.DataFrame, partner: str, sha: str, when: str, newer: dict) -> list:
    """The insert as it was: one dict per row through SQLAlchemy Core."""
    records = []
    for _, row in frame.iterrows():
        record = {name: None if not isinstance(row[name], str) and pd.isna(row[name])
                  else row[name] for name in VOUCHERS.column_names}
        key = str(row[VOUCHERS.key])
        record.update({VOUCHERS.key: key, "partner": partner, "source_sha256": sha,
                       "source_received_at": when, "source_line": int(row["_ligne"]),
                       "current": 0 if key in newer else 1, "superseded_by": newer.get(key)})
        records.append(record)
    return records


def _sorted(frame: pd.DataFrame) -> list[tuple]:
    def plain(value):
        return None if isinstance(value, float) and math.isnan(value) else value
    return sorted((tuple(plain(v) for v in row) for row in frame.itertuples(index=False)),
                  key=repr)


def test_bulk_insert_stores_what_the_row_by_row_insert_stored(data_dir, tmp_path):
    check_against_row_by_row(tmp_path)


def check_against_row_by_row(tmp_path) -> None:
    """Both ways into the current warehouse (SQLite, or PostgreSQL's COPY by URL) and into a
    reference SQLite file; the same rows must come back."""
    old, new = "a" * 64, "b" * 64
    with warehouse.engine().begin() as connection:
        warehouse.supersede_and_insert(connection, VOUCHERS, "op", old, "2026-03-01T10:00",
                                       _frame(ROWS))
        # A correction of two keys received earlier than the first file: they stay superseded.
        warehouse.supersede_and_insert(connection, VOUCHERS, "op", new, "2026-02-01T10:00",
                                       _frame([ROWS[1], ROWS[3]]))
    loaded = warehouse.all_rows("pass")

    reference = create_engine(f"sqlite:///{tmp_path / 'reference.sqlite'}")
    table = warehouse.DATASET_TABLES["pass"]
    table.create(reference)
    with reference.begin() as connection:
        connection.execute(table.insert(), _row_by_row(_frame(ROWS), "op", old,
                                                       "2026-03-01T10:00", {}))
        connection.execute(table.insert(), _row_by_row(
            _frame([ROWS[1], ROWS[3]]), "op", new, "2026-02-01T10:00",
            {"P-2": old, "P-4": old}))
    with reference.connect() as connection:
        expected = pd.read_sql_table("pass", connection)
    reference.dispose()

    assert list(loaded.columns) == list(expected.columns)
    assert _sorted(loaded) == _sorted(expected)
    first = loaded[(loaded["numero_pass"] == "1001")].iloc[0]
    assert first["valeur_euros"] == 10.0 and pd.isna(first["date_utilisation"])
    assert loaded.loc[loaded["numero_pass"] == "P-4", "valeur_euros"].tolist() == [0.1 + 0.2] * 2
    assert sorted(loaded.loc[loaded["current"] == 0, "numero_pass"]) == ["P-2", "P-4"]
