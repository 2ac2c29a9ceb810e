"""Checks that need more than the file itself: other files already in the warehouse.

Each check is declared in its dataset's contract (``CrossCheck``: message, fix, severity) and
implemented here; the report shows them like the Great Expectations rules.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from pipeline import warehouse
from pipeline.contracts import Contract
from pipeline.hours import is_valid
from pipeline.validation import LINE_COLUMN, Problem

Finding = tuple[int, str, str]  # line, column, value as written


class CurrentTables:
    """Current warehouse rows, read at most once per file even when several checks need them."""

    def __init__(self) -> None:
        self._tables: dict[str, pd.DataFrame] = {}

    def __call__(self, dataset: str) -> pd.DataFrame:
        if dataset not in self._tables:
            self._tables[dataset] = warehouse.current_rows(dataset)
        return self._tables[dataset]


Check = Callable[[pd.DataFrame, str, CurrentTables], list[Finding]]


def _findings(rows: pd.DataFrame, column: str) -> list[Finding]:
    return list(zip(rows[LINE_COLUMN].tolist(), [column] * len(rows), rows[column].tolist()))


def _pass_redeemed_twice(frame: pd.DataFrame, partner: str, tables: CurrentTables) -> list[Finding]:
    used = frame[frame["date_utilisation"].notna()]
    if used.empty:
        return []
    known = tables("pass")
    if known.empty:
        return []
    elsewhere = known[(known["partner"] != partner) & known["date_utilisation"].notna()]
    clash = used[used["numero_pass"].isin(set(elsewhere["numero_pass"]))]
    return _findings(clash, "numero_pass")


def _unknown_venue(frame: pd.DataFrame, _partner: str, tables: CurrentTables) -> list[Finding]:
    places = frame[frame["lieu_utilisation"].notna()]
    if places.empty:
        return []
    venues = tables("lieux")
    known = set(venues["id"]) | set(venues["nom"]) if not venues.empty else set()
    return _findings(places[~places["lieu_utilisation"].isin(known)], "lieu_utilisation")


def _sorted_pickups(frame: pd.DataFrame, tables: CurrentTables) -> pd.DataFrame:
    pickups = tables("collecte")
    if pickups.empty:
        return frame.assign(telephones_collectes=float("nan"))
    collected = pickups.groupby("identifiant_collecte")["telephones_collectes"].sum()
    return frame.assign(telephones_collectes=frame["identifiant_collecte"].map(collected))


def _sorting_exceeds_collection(frame: pd.DataFrame, _partner: str,
                                tables: CurrentTables) -> list[Finding]:
    joined = _sorted_pickups(frame, tables)
    sorted_total = (joined["telephones_reconditionnes"].fillna(0)
                    + joined["telephones_recycles"].fillna(0))
    collected = joined["telephones_collectes"]
    bad = joined[collected.notna() & (sorted_total > collected)]
    return [(r[LINE_COLUMN], "telephones_recycles",
             f"{int(r['telephones_reconditionnes'] or 0)} + {int(r['telephones_recycles'] or 0)}"
             f" > {int(r['telephones_collectes'])}") for _, r in bad.iterrows()]


def _unknown_pickup(frame: pd.DataFrame, _partner: str, tables: CurrentTables) -> list[Finding]:
    joined = _sorted_pickups(frame, tables)
    return _findings(joined[joined["telephones_collectes"].isna()], "identifiant_collecte")


def _unreadable_hours(frame: pd.DataFrame, _partner: str, _tables: CurrentTables) -> list[Finding]:
    rows = frame[frame["horaires"].notna()]
    return [(r[LINE_COLUMN], "horaires", r["horaires"]) for _, r in rows.iterrows()
            if not is_valid(r["horaires"])]


CHECKS: dict[str, Check] = {
    "pass_utilise_deux_fois": _pass_redeemed_twice,
    "lieu_inconnu": _unknown_venue,
    "tri_superieur_collecte": _sorting_exceeds_collection,
    "releve_inconnue": _unknown_pickup,
    "horaires_illisibles": _unreadable_hours,
}


def run_cross_checks(contract: Contract, frame: pd.DataFrame, partner: str) -> list[Problem]:
    problems: list[Problem] = []
    tables = CurrentTables()
    for check in contract.cross_checks:
        for line, column, value in CHECKS[check.id](frame, partner, tables):
            problems.append(Problem(int(line), column, str(value), check.message, check.fix,
                                    check.severity))
    return problems
