"""Checks that need more than the file itself: other files already in the warehouse.

Each check is declared in its dataset's contract (``CrossCheck``: message, fix, severity) and
implemented here; the report shows them like the Great Expectations rules.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from pipeline.check.validation import LINE_COLUMN
from pipeline.config import load_territory
from pipeline.contracts.model import Contract, CrossCheck
from pipeline.load import ledger, warehouse
from pipeline.problems import Problem
from pipeline.contracts.hours import is_valid

# (the file's rows, the partner's id, the check as its contract declares it) -> the rows it flags
Check = Callable[[pd.DataFrame, str, CrossCheck], list[Problem]]


def _found(check: CrossCheck, line: int, column: str, value: object, **detail: str) -> Problem:
    """A flagged row: the contract's rule, or its ``detail`` filled with what the check found
    there (the earlier file, its date…), so the partner sees what their row clashes with."""
    rule = check.detail.format(**detail) if detail and check.detail else check.message
    return Problem(int(line), column, str(value), rule, check.fix, check.severity)


def _flagged(check: CrossCheck, rows: pd.DataFrame, column: str) -> list[Problem]:
    return [_found(check, line, column, value)
            for line, value in zip(rows[LINE_COLUMN].tolist(), rows[column].tolist())]


def _french_date(iso: str) -> str:
    return "/".join(reversed(str(iso).split("-")))


def _earlier_files(rows: pd.DataFrame) -> dict[tuple[str, str], tuple[str, str]]:
    """(partner, sha256) of the rows -> (file name, reception day) from the ledger."""
    files = ledger.files_named(set(zip(rows["partner"], rows["source_sha256"])))
    return {k: (name, _french_date(received[:10])) for k, (name, received) in files.items()}


def _blank_as_empty(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str)


def _pass_redeemed_twice(frame: pd.DataFrame, partner: str, check: CrossCheck) -> list[Problem]:
    """A redemption already recorded is final (see the rule in the contract): a row of the same
    partner must repeat it exactly; another partner's row may not redeem the pass at all."""
    redeemed = warehouse.current_matching(
        "pass", "numero_pass", frame["numero_pass"],
        ["numero_pass", "partner", "date_utilisation", "lieu_utilisation", "source_sha256"],
        filled="date_utilisation")
    if redeemed.empty:
        return []
    rows = frame[[LINE_COLUMN, "numero_pass", "date_utilisation", "lieu_utilisation"]].merge(
        redeemed, on="numero_pass", suffixes=("", "_enregistre"))
    same_partner = rows["partner"] == partner
    changed = ((_blank_as_empty(rows["date_utilisation"])
                != _blank_as_empty(rows["date_utilisation_enregistre"]))
               | (_blank_as_empty(rows["lieu_utilisation"])
                  != _blank_as_empty(rows["lieu_utilisation_enregistre"])))
    clash = rows[(same_partner & changed) | (~same_partner & rows["date_utilisation"].notna())]
    if clash.empty:
        return []
    files = _earlier_files(clash)
    found: list[Problem] = []
    for line, number, used, place, source in zip(  # plain lists: a file may hold 100,000
            clash[LINE_COLUMN].tolist(), clash["numero_pass"].tolist(),
            clash["date_utilisation_enregistre"].tolist(),
            clash["lieu_utilisation_enregistre"].tolist(),
            zip(clash["partner"].tolist(), clash["source_sha256"].tolist())):
        name, day = files.get(source, ("?", "?"))
        found.append(_found(check, line, "numero_pass", number, date=_french_date(used),
                            lieu=place, fichier=name, recu=day))
    return found


def _unknown_venue(frame: pd.DataFrame, _partner: str, check: CrossCheck) -> list[Problem]:
    places = frame[frame["lieu_utilisation"].notna()]
    if places.empty:
        return []
    named = set(places["lieu_utilisation"])
    known = set(warehouse.current_matching("lieux", "id", named, ["id"])["id"])
    known |= set(warehouse.current_matching("lieux", "nom", named - known, ["nom"])["nom"])
    return _flagged(check, places[~places["lieu_utilisation"].isin(known)], "lieu_utilisation")


def _sorted_pickups(frame: pd.DataFrame) -> pd.DataFrame:
    pickups = warehouse.current_matching("collecte", "identifiant_collecte",
                                         frame["identifiant_collecte"],
                                         ["identifiant_collecte", "telephones_collectes"])
    if pickups.empty:
        return frame.assign(telephones_collectes=float("nan"))
    collected = pickups.groupby("identifiant_collecte")["telephones_collectes"].sum()
    return frame.assign(telephones_collectes=frame["identifiant_collecte"].map(collected))


def _sorting_exceeds_collection(frame: pd.DataFrame, _partner: str,
                                check: CrossCheck) -> list[Problem]:
    joined = _sorted_pickups(frame)
    sorted_total = (joined["telephones_reconditionnes"].fillna(0)
                    + joined["telephones_recycles"].fillna(0))
    collected = joined["telephones_collectes"]
    bad = joined[collected.notna() & (sorted_total > collected)]
    return [_found(check, r[LINE_COLUMN], "telephones_recycles",
                   f"{int(r['telephones_reconditionnes'] or 0)} + "
                   f"{int(r['telephones_recycles'] or 0)} > {int(r['telephones_collectes'])}")
            for _, r in bad.iterrows()]


def _unknown_pickup(frame: pd.DataFrame, _partner: str, check: CrossCheck) -> list[Problem]:
    joined = _sorted_pickups(frame)
    return _flagged(check, joined[joined["telephones_collectes"].isna()], "identifiant_collecte")


def _collection_below_sorting(frame: pd.DataFrame, partner: str,
                              check: CrossCheck) -> list[Problem]:
    """A pickup file checked against the sortings already recorded for its pickups (they may
    arrive first): collected phones, counting other partners' rows for the same pickup, must
    not be fewer than sorted ones."""
    sortings = warehouse.current_matching(
        "tri", "identifiant_collecte", frame["identifiant_collecte"],
        ["identifiant_collecte", "telephones_reconditionnes", "telephones_recycles",
         "partner", "source_sha256"])
    if sortings.empty:
        return []
    sortings = sortings.assign(tries=sortings["telephones_reconditionnes"].fillna(0)
                               + sortings["telephones_recycles"].fillna(0))
    sorted_total = sortings.groupby("identifiant_collecte")["tries"].sum()
    others = warehouse.current_matching("collecte", "identifiant_collecte",
                                        set(sortings["identifiant_collecte"]),
                                        ["identifiant_collecte", "partner",
                                         "telephones_collectes"])
    others = others[others["partner"] != partner]  # this file's rows replace the partner's own
    elsewhere = others.groupby("identifiant_collecte")["telephones_collectes"].sum()
    ids = frame["identifiant_collecte"]
    collected = frame["telephones_collectes"].fillna(0) + ids.map(elsewhere).fillna(0)
    sorted_here = ids.map(sorted_total)
    bad = frame[sorted_here.notna() & (sorted_here > collected)]
    files = _earlier_files(sortings)
    names = sortings.groupby("identifiant_collecte").apply(
        lambda g: ", ".join(sorted({files.get((p, s), ("?", ""))[0]
                                    for p, s in zip(g["partner"], g["source_sha256"])})),
        include_groups=False)
    return [_found(check, r[LINE_COLUMN], "telephones_collectes",
                   _count(r["telephones_collectes"]),
                   tries=_count(sorted_total[r["identifiant_collecte"]]),
                   fichier=names[r["identifiant_collecte"]], collectes=_count(collected[index]))
            for index, r in bad.iterrows()]


def _count(value) -> str:
    return "" if pd.isna(value) else str(int(value))


def _unreadable_hours(frame: pd.DataFrame, _partner: str, check: CrossCheck) -> list[Problem]:
    rows = frame[frame["horaires"].notna()]
    return [_found(check, r[LINE_COLUMN], "horaires", r["horaires"])
            for _, r in rows.iterrows() if not is_valid(r["horaires"])]


def _no_position(frame: pd.DataFrame, _partner: str, check: CrossCheck) -> list[Problem]:
    """Venues that cannot be sorted by distance (they are still listed)."""
    missing = frame[frame["latitude"].isna() | frame["longitude"].isna()] \
        if {"latitude", "longitude"} <= set(frame.columns) else frame
    return [_found(check, r[LINE_COLUMN], "latitude", "") for _, r in missing.iterrows()]


def _undeclared_point(frame: pd.DataFrame, _partner: str, check: CrossCheck) -> list[Problem]:
    """Pickups at a point that territory.toml does not know, in a commune whose bins it
    declares (communes without declared bins are not checked: a territory may adopt the
    declarations commune by commune)."""
    territory = load_territory()
    declared: dict[str, list[str]] = {}
    for point in territory.collection_points:
        declared.setdefault(point.commune, []).append(f"« {point.name} »")
    problems = []
    for line, commune, name in zip(frame[LINE_COLUMN].tolist(), frame["commune"].tolist(),
                                   frame["point_collecte"].tolist()):
        known = declared.get(str(commune))
        if known and not pd.isna(name) and territory.collection_point(commune, name) is None:
            problems.append(_found(check, line, "point_collecte", name, point=str(name),
                                   declares="collecteurs déclarés : " + ", ".join(known)))
    return problems


CHECKS: dict[str, Check] = {
    "pass_utilise_deux_fois": _pass_redeemed_twice,
    "lieu_inconnu": _unknown_venue,
    "tri_superieur_collecte": _sorting_exceeds_collection,
    "releve_inconnue": _unknown_pickup,
    "collecte_inferieure_au_tri": _collection_below_sorting,
    "horaires_illisibles": _unreadable_hours,
    "sans_coordonnees": _no_position,
    "point_non_declare": _undeclared_point,
}


def run_cross_checks(contract: Contract, frame: pd.DataFrame, partner: str) -> list[Problem]:
    """Every cross-check the contract declares, in its order."""
    return [problem for check in contract.cross_checks
            for problem in CHECKS[check.id](frame, partner, check)]
