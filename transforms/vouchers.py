"""Pass numérique indicators per commune and year (year of hand-out).

- booklets handed out: distinct booklet numbers; passes handed out: rows;
- passes redeemed: rows with a redemption date; redemption rate = redeemed ÷ handed out;
- value redeemed: sum of face values of redeemed passes, in euros;
- median days from hand-out to redemption; venues where passes were redeemed (distinct).
"""

from __future__ import annotations

import pandas as pd

COLUMNS = ["carnets_distribues", "pass_distribues", "pass_utilises", "taux_utilisation",
           "valeur_utilisee_euros", "delai_median_jours", "lieux_utilisation"]


def _aggregate(group: pd.DataFrame) -> pd.Series:
    used = group[group["date_utilisation"].notna()]
    delays = (pd.to_datetime(used["date_utilisation"]) - pd.to_datetime(used["date_distribution"])).dt.days
    handed = len(group)
    return pd.Series({
        "carnets_distribues": int(group["numero_carnet"].nunique()),
        "pass_distribues": int(handed),
        "pass_utilises": int(len(used)),
        "taux_utilisation": float(len(used) / handed) if handed else float("nan"),
        "valeur_utilisee_euros": float(used["valeur_euros"].sum()),
        "delai_median_jours": float(delays.median()) if len(used) else float("nan"),
        "lieux_utilisation": int(used["lieu_utilisation"].nunique()),
    })


def _with_year(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(annee=rows["date_distribution"].str.slice(0, 4).astype(int))


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
