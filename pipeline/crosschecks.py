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


Check = Callable[[pd.DataFrame, str], list[Finding]]


def _findings(rows: pd.DataFrame, column: str) -> list[Finding]:
    return list(zip(rows[LINE_COLUMN].tolist(), [column] * len(rows), rows[column].tolist()))


def _pass_redeemed_twice(frame: pd.DataFrame, partner: str) -> list[Finding]:
    used = frame[frame["date_utilisation"].notna()]
    if used.empty:
        return []
    known = warehouse.current_matching("pass", "numero_pass", used["numero_pass"],
                                       ["numero_pass", "partner", "date_utilisation"])
    elsewhere = known[(known["partner"] != partner) & known["date_utilisation"].notna()]
    clash = used[used["numero_pass"].isin(set(elsewhere["numero_pass"]))]
    return _findings(clash, "numero_pass")


def _unknown_venue(frame: pd.DataFrame, _partner: str) -> list[Finding]:
    places = frame[frame["lieu_utilisation"].notna()]
    if places.empty:
        return []
    named = set(places["lieu_utilisation"])
    known = set(warehouse.current_matching("lieux", "id", named, ["id"])["id"])
    known |= set(warehouse.current_matching("lieux", "nom", named - known, ["nom"])["nom"])
    return _findings(places[~places["lieu_utilisation"].isin(known)], "lieu_utilisation")


def _sorted_pickups(frame: pd.DataFrame) -> pd.DataFrame:
    pickups = warehouse.current_matching("collecte", "identifiant_collecte",
                                         frame["identifiant_collecte"],
                                         ["identifiant_collecte", "telephones_collectes"])
    if pickups.empty:
        return frame.assign(telephones_collectes=float("nan"))
    collected = pickups.groupby("identifiant_collecte")["telephones_collectes"].sum()
    return frame.assign(telephones_collectes=frame["identifiant_collecte"].map(collected))


def _sorting_exceeds_collection(frame: pd.DataFrame, _partner: str) -> list[Finding]:
    joined = _sorted_pickups(frame)
    sorted_total = (joined["telephones_reconditionnes"].fillna(0)
                    + joined["telephones_recycles"].fillna(0))
    collected = joined["telephones_collectes"]
    bad = joined[collected.notna() & (sorted_total > collected)]
    return [(r[LINE_COLUMN], "telephones_recycles",
             f"{int(r['telephones_reconditionnes'] or 0)} + {int(r['telephones_recycles'] or 0)}"
             f" > {int(r['telephones_collectes'])}") for _, r in bad.iterrows()]


def _unknown_pickup(frame: pd.DataFrame, _partner: str) -> list[Finding]:
    joined = _sorted_pickups(frame)
    return _findings(joined[joined["telephones_collectes"].isna()], "identifiant_collecte")


def _unreadable_hours(frame: pd.DataFrame, _partner: str) -> list[Finding]:
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
    for check in contract.cross_checks:
        for line, column, value in CHECKS[check.id](frame, partner):
            problems.append(Problem(int(line), column, str(value), check.message, check.fix,
                                    check.severity))
    return problems
