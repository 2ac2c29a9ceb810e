"""Where residents can drop an old phone: the collection points known from the pickups."""

from __future__ import annotations

import pandas as pd

from pipeline.contracts.datasets import COLLECTION

COMMUNE, DATE = COLLECTION.commune_column, COLLECTION.date_column


def collection_points(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per collection point: commune, point, last pickup, phones collected in total."""
    if rows.empty:
        return pd.DataFrame(columns=["commune", "point_collecte", "derniere_releve",
                                     "telephones_collectes"])
    return (rows.groupby([COMMUNE, "point_collecte"], as_index=False)
            .agg(derniere_releve=(DATE, "max"),
                 telephones_collectes=("telephones_collectes", "sum"))
            .sort_values([COMMUNE, "point_collecte"]).reset_index(drop=True)
            .rename(columns={COMMUNE: "commune"}))


def pickups_by_month(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per collection point and month (``AAAA-MM`` of the pickup date): pickups and
    phones collected, by commune then point then month."""
    columns = ["commune", "point_collecte", "mois", "releves", "telephones_collectes"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    return (rows.assign(mois=rows[DATE].astype(str).str[:7])
            .groupby([COMMUNE, "point_collecte", "mois"], as_index=False)
            .agg(releves=(DATE, "size"), telephones_collectes=("telephones_collectes", "sum"))
            .rename(columns={COMMUNE: "commune"})
            .sort_values(["commune", "point_collecte", "mois"]).reset_index(drop=True)[columns]
            .astype({"releves": "int64", "telephones_collectes": "int64"}))
