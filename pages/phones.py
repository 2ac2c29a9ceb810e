"""Where residents can drop an old phone: the collection points known from the pickups."""

from __future__ import annotations

import pandas as pd


def collection_points(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per collection point: commune, point, last pickup, phones collected in total."""
    if rows.empty:
        return pd.DataFrame(columns=["commune", "point_collecte", "derniere_releve",
                                     "telephones_collectes"])
    return (rows.groupby(["commune", "point_collecte"], as_index=False)
            .agg(derniere_releve=("date", "max"), telephones_collectes=("telephones_collectes", "sum"))
            .sort_values(["commune", "point_collecte"]).reset_index(drop=True))
