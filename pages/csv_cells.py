"""Cells of the CSV files the site serves (venue directory, open data): formula-safe for
spreadsheets, empty for missing values, one record per row."""

from __future__ import annotations

import re

import pandas as pd

from pipeline.check.suites import HOUR_MINUTE, ISO_DATE
from pipeline.contracts.model import Contract

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
