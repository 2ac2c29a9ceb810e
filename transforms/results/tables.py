"""The tables of one dataset's rows: one row per commune of the territory and the territory
total, or one row per value of a breakdown column; secret cells withheld."""

from __future__ import annotations

import copy

import pandas as pd

from pipeline.contracts.model import Breakdown, Column
from transforms.catalogue import DATASETS, Groups, Indicator, indicator, indicators_of, round_value
from transforms.results.prepare import COMMUNE
from transforms.suppression import suppress


def _values(rows: pd.DataFrame, indicators: list[Indicator]) -> dict:
    groups = Groups(rows)  # one group; its row masks are shared by the indicators
    return {i.id: round_value(i, float(i.grouped(groups).iloc[0])) for i in indicators}


def _values_by(rows: pd.DataFrame, column: str, indicators: list[Indicator]) -> dict[str, dict]:
    """``_values`` for every value of ``column`` at once (one pandas pass per indicator)."""
    if rows.empty:
        return {}
    groups = Groups(rows, column)
    series = {i.id: i.grouped(groups) for i in indicators}
    return {code: {i.id: round_value(i, series[i.id][code]) for i in indicators}
            for code in groups.index}


def _finish(row: dict, indicators: list[Indicator]) -> None:
    """Withhold revealing values of secret rows."""
    secret = row.get("secret", False)
    row["published"] = {i.id: (None if (secret and i.reveals_people) or not row["renseigne"]
                               else row["values"].get(i.id)) for i in indicators}


def commune_table(dataset: str, rows: pd.DataFrame, communes: dict[str, str], threshold: int,
                  covered: set[str] | None = None) -> dict:
    """One row per commune of the territory (sorted by name) and the territory total."""
    indicators = [i for i in indicators_of(dataset) if "commune" in i.breakdowns]
    by_commune = _values_by(rows, COMMUNE, indicators)
    empty = _values(rows.iloc[0:0], indicators) if covered else {}
    table_rows = []
    for code, name in sorted(communes.items(), key=lambda item: item[1]):
        values = by_commune.get(code)
        reported = values is not None or (covered is not None and code in covered)
        table_rows.append({"commune": code, "nom_commune": name, "sort": name,
                           "renseigne": reported,
                           "values": (values if values is not None else empty) if reported else {}})
    total = {"commune": "", "nom_commune": "Territoire", "sort": "", "renseigne": not rows.empty,
             "values": _values(rows, indicators_of(dataset)) if not rows.empty else {}}
    people = DATASETS[dataset].people
    if people:
        suppress(table_rows, total, people, threshold)
    for row in table_rows:
        _finish(row, indicators)
    _finish(total, indicators_of(dataset))
    return {"dataset": dataset, "indicators": indicators, "rows": table_rows, "total": total}


def dataset_tables(dataset: str, rows: pd.DataFrame, communes: dict[str, str],
                   threshold: int) -> dict:
    """A dated dataset's commune table for each year it has rows, and the table of a year
    without rows. Indicator objects are given as ids, so the result can be stored."""
    def plain(table: dict) -> dict:
        return {**table, "indicators": [i.id for i in table["indicators"]]}

    years = sorted(int(y) for y in rows["annee"].unique()) if not rows.empty else []
    return {"years": {year: plain(commune_table(dataset, rows[rows["annee"] == year], communes,
                                                threshold)) for year in years},
            "empty": plain(commune_table(dataset, rows.iloc[0:0], communes, threshold))}


def with_indicators(table: dict) -> dict:
    """A stored table (``dataset_tables``) with its indicator objects back."""
    return {**copy.deepcopy(table), "indicators": [indicator(i) for i in table["indicators"]]}


def _each_value(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """A row per distinct value of a multi-valued (``|``-separated) column."""
    if rows.empty or column not in rows:
        return rows.iloc[0:0]
    values = rows[column].dropna().astype(str).map(
        lambda cell: sorted({v.strip() for v in cell.split("|") if v.strip()}))
    exploded = rows.loc[values.index].assign(**{column: values}).explode(column)
    return exploded[exploded[column].notna()]


def breakdown_table(dataset: str, breakdown: Breakdown, column: Column, rows: pd.DataFrame,
                    threshold: int) -> dict:
    """One row per value of the breakdown's column, named by its choice labels; a total row
    unless the column is multi-valued (a row counted under several values)."""
    indicators = [indicator(i) for i in breakdown.indicators]
    if column.multiple:
        rows = _each_value(rows, column.name)
    labels = {choice.code: choice.label for choice in column.choices}
    table_rows = []
    for code, values in sorted(_values_by(rows, column.name, indicators).items(),
                               key=lambda item: str(item[0])):
        label = labels.get(code, code)
        table_rows.append({"code": code, "label": label, "sort": label, "renseigne": True,
                           "values": values})
    total = None if column.multiple else {
        "code": "", "label": "Total", "sort": "", "renseigne": not rows.empty,
        "values": _values(rows, indicators) if not rows.empty else {}}
    people = DATASETS[dataset].people
    if people in breakdown.indicators:
        suppress(table_rows, total, people, threshold)
    for row in table_rows + ([total] if total else []):
        _finish(row, indicators)
    return {"dataset": dataset, "dimension": column.name, "indicators": indicators,
            "rows": table_rows, "total": total}
