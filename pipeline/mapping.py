"""Per-partner mappings: reading a partner's own export layout as the contract.

Some partners export from tools with their own column names, their own labels for closed lists,
their own date format, or opening hours split into one column per day. The territory
configuration gives each such partner a mapping (like the national cartography's per-source
configuration) and this module applies it to the raw cells before the contract reads them.
Whatever the mapping does not cover is reported, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_SLOT = re.compile(r"(\d{1,2})\s*(?:h|:)\s*(\d{2})?\s*(?:-|–|à|a)\s*(\d{1,2})\s*(?:h|:)\s*(\d{2})?",
                   re.IGNORECASE)
_CLOSED = {"", "ferme", "fermé", "fermée", "closed", "-", "non"}


@dataclass(frozen=True)
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    date_format: str | None = None
    hours_by_day: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, raw: dict | None) -> Mapping | None:
        if not raw:
            return None
        unknown_days = set(raw.get("hours_by_day", {}).values()) - set(OSM_DAYS)
        if unknown_days:
            raise ValueError(f"hours_by_day: unknown OpenStreetMap days {sorted(unknown_days)}")
        return cls(columns=dict(raw.get("columns", {})),
                   values={k: dict(v) for k, v in raw.get("values", {}).items()},
                   date_format=raw.get("date_format"),
                   hours_by_day=dict(raw.get("hours_by_day", {})))


@dataclass
class MappingNote:
    line: int | None
    column: str
    value: str
    message: str


def day_slots(text: object) -> str | None:
    """``"9h-12h / 14h-17h30"`` -> ``"09:00-12:00,14:00-17:30"``; ``""`` for closed;
    ``None`` when the cell cannot be read."""
    cell = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text).strip()
    if cell.lower() in _CLOSED:
        return ""
    slots = [f"{int(a):02d}:{int(b or 0):02d}-{int(c):02d}:{int(d or 0):02d}"
             for a, b, c, d in _SLOT.findall(cell)]
    leftover = _SLOT.sub("", cell)
    if not slots or re.sub(r"[\s/,;et&+]", "", leftover, flags=re.IGNORECASE):
        return None
    return ",".join(slots)


def _hours(cells: pd.DataFrame, days: dict[str, str], notes: list[MappingNote]) -> pd.Series:
    present = [c for c in days if c in cells.columns]
    result = []
    for offset, (_, row) in enumerate(cells[present].iterrows()):
        rules, readable = [], True
        for column in present:
            slots = day_slots(row[column])
            if slots is None:
                readable = False
                notes.append(MappingNote(offset + 2, column, str(row[column]),
                                         "Horaires de ce jour illisibles : la fiche gardera les "
                                         "horaires tels quels."))
            elif slots:
                rules.append(f"{days[column]} {slots}")
        result.append("; ".join(rules) if readable else
                      " | ".join(f"{c}: {row[c]}" for c in present))
    return pd.Series(result, index=cells.index, dtype=object)


def _map_value(value: object, table: dict[str, str]) -> object:
    if not isinstance(value, str) or not value.strip():
        return value
    parts = [p.strip() for p in re.split(r"[|;,]", value) if p.strip()]
    return "|".join(table.get(p, p) for p in parts)


def apply_mapping(cells: pd.DataFrame, mapping: Mapping | None,
                  date_columns: set[str]) -> tuple[pd.DataFrame, list[MappingNote]]:
    if mapping is None:
        return cells, []
    notes: list[MappingNote] = []
    out = cells.rename(columns=mapping.columns)
    if mapping.hours_by_day:
        out["horaires"] = _hours(cells, mapping.hours_by_day, notes)
        out = out.drop(columns=[c for c in mapping.hours_by_day if c in out.columns])
    for column, table in mapping.values.items():
        if column not in out.columns:
            continue
        known = set(table) | set(table.values())
        for offset, value in enumerate(out[column].tolist()):
            if isinstance(value, str):
                for part in (p.strip() for p in re.split(r"[|;,]", value) if p.strip()):
                    if part not in known:
                        notes.append(MappingNote(offset + 2, column, part,
                                                 "Valeur absente de votre table de "
                                                 "correspondance."))
        out[column] = out[column].map(lambda v, t=table: _map_value(v, t))
    if mapping.date_format:
        for column in date_columns & set(out.columns):
            out[column] = out[column].map(lambda v: _reformat_date(v, mapping.date_format))
    return out, notes


def _reformat_date(value: object, date_format: str) -> object:
    if not isinstance(value, str) or not value.strip():
        return value
    try:
        return datetime.strptime(value.strip(), date_format).date().isoformat()
    except ValueError:
        return value  # validation will quote it back
