"""Downloadable files: the venue directory in the national schema, safe for spreadsheets."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from pages.csv_cells import csv_cell, literal_patterns
from pipeline.contracts.venues import STANDARD_VERSION, VENUES


def _clean(value: object) -> object:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return value


def venues_csv(venues: pd.DataFrame) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(VENUES.column_names)
    literals = literal_patterns(VENUES)
    for row in venues.sort_values("id").to_dict(orient="records"):
        writer.writerow([csv_cell(row.get(name), literals.get(name))
                         for name in VENUES.column_names])
    return buffer.getvalue()


def venues_json(venues: pd.DataFrame) -> str:
    records = [{name: _clean(row.get(name)) for name in VENUES.column_names}
               for row in venues.sort_values("id").to_dict(orient="records")]
    return json.dumps({"schema": "lieux de médiation numérique", "version": STANDARD_VERSION,
                       "licence": "Licence Ouverte 2.0", "lieux": records},
                      ensure_ascii=False, indent=1)


@dataclass(frozen=True)
class Download:
    """A file of the open-data folder, rendered only when the build needs it: ``key`` changes
    whenever its content would, so an unchanged directory is reused from the live build."""

    key: str
    render: Callable[[], str]


def venue_downloads(venues: pd.DataFrame) -> dict[str, Download]:
    columns = [c for c in VENUES.column_names if c in venues]
    # Row order does not matter (the files are sorted by id), so a sum of row hashes will do.
    digest = int(pd.util.hash_pandas_object(venues[columns].astype(str), index=False).sum()) \
        if not venues.empty else 0
    key = f"{STANDARD_VERSION}:{len(venues)}:{digest}"
    return {"lieux.csv": Download(f"csv:{key}", lambda: venues_csv(venues)),
            "lieux.json": Download(f"json:{key}", lambda: venues_json(venues))}
