"""Used-phone collection indicators per commune and year (year of the bin pickup).

- active collection points: distinct points with at least one pickup;
- phones collected; refurbished and recycled (from the refurbisher's sorting file, joined on
  the pickup id); reuse rate = refurbished ÷ (refurbished + recycled), over sorted pickups.
"""

from __future__ import annotations

import pandas as pd

COLUMNS = ["points_collecte_actifs", "telephones_collectes", "telephones_reconditionnes",
           "telephones_recycles", "taux_reemploi"]


def with_sorting(pickups: pd.DataFrame, sorting: pd.DataFrame) -> pd.DataFrame:
    if sorting.empty:
        return pickups.assign(telephones_reconditionnes=float("nan"), telephones_recycles=float("nan"))
    counts = sorting[["identifiant_collecte", "telephones_reconditionnes", "telephones_recycles"]]
    counts = counts.groupby("identifiant_collecte", as_index=False).sum()
    return pickups.merge(counts, how="left", on="identifiant_collecte")


def _aggregate(group: pd.DataFrame) -> pd.Series:
    reused, recycled = group["telephones_reconditionnes"].sum(), group["telephones_recycles"].sum()
    return pd.Series({
        "points_collecte_actifs": int(group["point_collecte"].nunique()),
        "telephones_collectes": int(group["telephones_collectes"].sum()),
        "telephones_reconditionnes": int(reused),
        "telephones_recycles": int(recycled),
        "taux_reemploi": float(reused / (reused + recycled)) if reused + recycled else float("nan"),
    })


def _with_year(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(annee=rows["date"].str.slice(0, 4).astype(int))


def by_commune(rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(columns=["annee", "commune", *COLUMNS])
    data = _with_year(rows)
    return data.groupby(["annee", "commune"])[list(data.columns)].apply(_aggregate).reset_index()


def for_territory(rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(columns=["annee", *COLUMNS])
    data = _with_year(rows)
    return data.groupby("annee")[list(data.columns)].apply(_aggregate).reset_index()


def collection_points(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per collection point: commune, point, last pickup, phones collected in total."""
    if rows.empty:
        return pd.DataFrame(columns=["commune", "point_collecte", "derniere_releve",
                                     "telephones_collectes"])
    return (rows.groupby(["commune", "point_collecte"], as_index=False)
            .agg(derniere_releve=("date", "max"), telephones_collectes=("telephones_collectes", "sum"))
            .sort_values(["commune", "point_collecte"]).reset_index(drop=True))
