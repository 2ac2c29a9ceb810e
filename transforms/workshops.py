"""Workshop indicators per commune and year, and the list of upcoming sessions.

Definitions (also shown on the site's method section):
- sessions held: rows with status "réalisée"; cancelled: status "annulée";
- participants: sum of "présents" over held sessions;
- learner-hours: sum of présents × duration (hours) over held sessions;
- fill rate: registered ÷ seats, over held sessions;
- attendance rate: present ÷ registered, over held sessions.
A commune without any workshop row has no figures ("non renseigné"), never zeros.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

HELD, CANCELLED, PLANNED = "realisee", "annulee", "prevue"

INDICATOR_COLUMNS = ["seances_realisees", "seances_annulees", "participants",
                     "heures_apprenants", "taux_remplissage", "taux_presence"]


def _aggregate(group: pd.DataFrame) -> pd.Series:
    held = group[group["statut"] == HELD]
    seats, registered, attended = held["places"].sum(), held["inscrits"].sum(), held["presents"].sum()
    return pd.Series({
        "seances_realisees": int(len(held)),
        "seances_annulees": int((group["statut"] == CANCELLED).sum()),
        "participants": int(attended),
        "heures_apprenants": float((held["presents"] * held["duree_minutes"]).sum() / 60),
        "taux_remplissage": float(registered / seats) if seats else float("nan"),
        "taux_presence": float(attended / registered) if registered else float("nan"),
    })


def with_year(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows.copy()
    out["annee"] = out["date"].str.slice(0, 4).astype(int)
    for column in ("places", "inscrits", "presents", "duree_minutes"):
        out[column] = pd.to_numeric(out[column], errors="coerce").fillna(0)
    return out


def indicators_by_commune(rows: pd.DataFrame, communes: dict[str, str]) -> pd.DataFrame:
    """One row per (year, commune) of the territory; communes without any row for that year's
    data set stay in the table with empty (NaN) figures."""
    if rows.empty:
        return pd.DataFrame(columns=["annee", "commune", "nom_commune", *INDICATOR_COLUMNS])
    data = with_year(rows)
    grouped = (data.groupby(["annee", "commune"])[list(data.columns)]
               .apply(_aggregate).reset_index())
    years = sorted(data["annee"].unique())
    frame = pd.MultiIndex.from_product([years, list(communes)], names=["annee", "commune"])
    full = pd.DataFrame(index=frame).reset_index().merge(grouped, how="left",
                                                        on=["annee", "commune"])
    full.insert(2, "nom_commune", full["commune"].map(communes))
    return full.sort_values(["annee", "nom_commune"]).reset_index(drop=True)


def indicators_for_territory(rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(columns=["annee", *INDICATOR_COLUMNS])
    data = with_year(rows)
    return (data.groupby("annee")[list(data.columns)].apply(_aggregate)
            .reset_index().sort_values("annee").reset_index(drop=True))


def upcoming_sessions(rows: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Sessions not cancelled that start at or after ``now`` (local time), soonest first."""
    if rows.empty:
        return rows.assign(places_restantes=[])
    start = rows["date"] + "T" + rows["heure_debut"]
    mask = (rows["statut"] != CANCELLED) & (start >= now.strftime("%Y-%m-%dT%H:%M"))
    out = rows[mask].copy()
    out["places_restantes"] = (out["places"] - out["inscrits"]).clip(lower=0).astype(int)
    return out.sort_values(["date", "heure_debut", "commune", "identifiant_seance"]).reset_index(drop=True)
