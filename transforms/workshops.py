"""The upcoming workshop sessions residents can still join.

Yearly workshop indicators are defined, with every other indicator, in ``transforms.catalogue``.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from pipeline.contracts.datasets import WORKSHOPS
from transforms.catalogue import CANCELLED, STATUS


def upcoming_sessions(rows: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Sessions not cancelled that start at or after ``now`` (local time), soonest first."""
    if rows.empty:
        return rows.assign(places_restantes=[])
    start = rows[WORKSHOPS.date_column] + "T" + rows["heure_debut"]
    mask = (rows[STATUS] != CANCELLED) & (start >= now.strftime("%Y-%m-%dT%H:%M"))
    out = rows[mask].copy()
    out["places_restantes"] = (out["places"] - out["inscrits"]).clip(lower=0).astype(int)
    return out.sort_values([WORKSHOPS.date_column, "heure_debut", WORKSHOPS.commune_column,
                            WORKSHOPS.key]).reset_index(drop=True)
