"""Downloadable files: the venue directory in the national schema, safe for spreadsheets."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from pipeline.contracts import Contract
from pipeline.venue_contract import STANDARD_VERSION, VENUES

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A number as a spreadsheet reads it: data, not a formula (a latitude of -2.5).
NUMBER = r"^[-+]?\d+(?:\.\d+)?$"
# What a harmful formula needs: a function call, a string, a sheet or program reference (!, |),
# a concatenation. Some contract patterns are loose (an e-mail's local part takes almost any
# character), so a value with any of these is never trusted to be a plain value.
FORMULA_SYNTAX = re.compile(r"[()\"'!|&;\s]")


def neutralise(value: object, literal: re.Pattern | None = None) -> object:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP advice).
    Numbers stay numbers: only text can carry a formula. A text that wholly matches its
    column's typed pattern (``literal``, see ``literal_patterns``: an international phone
    number ``+33…``, a number, a date) is a value of that type, not a formula, and stays as
    is, so the file still follows its schema."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        if literal is not None and literal.fullmatch(value) and not FORMULA_SYNTAX.search(value):
            return value
        return "'" + value
    return value


def literal_patterns(contract: Contract) -> dict[str, re.Pattern]:
    """Per column of ``contract``, the pattern its values follow, from the contract: the
    column's own pattern, else the one its type implies (dates and times as the validation
    suite checks them, numbers). Free text has none: it is always neutralised."""
    from pipeline.suites import HOUR_MINUTE, ISO_DATE

    by_type = {"date": ISO_DATE, "time": HOUR_MINUTE, "integer": NUMBER, "decimal": NUMBER}
    patterns = {}
    for column in contract.columns:
        pattern = column.pattern or by_type.get(column.type)
        if pattern:
            patterns[column.name] = re.compile(pattern)
    return patterns


def csv_cell(value: object, literal: re.Pattern | None = None) -> object:
    """A value ready for a CSV download: empty for missing, formula-safe (``literal``: see
    ``neutralise``), and one record per row (a lone CR is not quoted by the csv module with
    "\n" line endings: make it a newline, which is)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    value = neutralise(value, literal)
    if isinstance(value, str):
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


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
