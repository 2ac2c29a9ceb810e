"""Where residents can drop an old phone: the bins declared in territory.toml (address, hours,
poster), with what the pickup files say of them, and the points only pickups name."""

from __future__ import annotations

import pandas as pd

from pages.venues import hours_lines, slugify
from pipeline.config import CollectionPoint, Territory, point_name_key
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


def collection_places(pickups: pd.DataFrame, territory: Territory) -> list[dict]:
    """What /telephones/ lists, per commune (by name): every declared bin, with its address,
    hours and poster, whether or not it has been emptied yet; then the points that only
    pickup files name (no address known). ``pickups`` is ``collection_points``' table."""
    places: dict[str, list[dict]] = {}
    counted: dict[str, dict] = {}
    for point in territory.collection_points:
        counted[point.id] = _declared_place(point)
        places.setdefault(point.commune, []).append(counted[point.id])
    for row in pickups.to_dict(orient="records"):
        declared = territory.collection_point(row["commune"], row["point_collecte"])
        if declared is None:
            places.setdefault(row["commune"], []).append(_named_place(row))
            continue
        place = counted[declared.id]  # several spellings of one bin add up
        place["telephones_collectes"] = (place["telephones_collectes"] or 0) + int(
            row["telephones_collectes"])
        place["derniere_releve"] = max(filter(None, (place["derniere_releve"],
                                                     str(row["derniere_releve"]))))
    names = territory.commune_names
    return [{"commune": code, "nom_commune": names.get(code, code),
             "points": sorted(places[code], key=lambda p: point_name_key(p["nom"]))}
            for code in sorted(places, key=lambda c: point_name_key(names.get(c, c)))]


def _declared_place(point: CollectionPoint) -> dict:
    hours, readable = hours_lines(point.hours)
    return {"id": point.id, "ancre": f"point-{point.id}", "nom": point.name,
            "adresse": point.address, "hote": point.host, "depuis": point.since,
            "horaires": hours, "horaires_lisibles": readable, "horaires_osm": point.hours,
            "latitude": point.latitude, "longitude": point.longitude,
            "affiche": f"/telephones/{point.id}/affiche/",
            "derniere_releve": None, "telephones_collectes": None}


def _named_place(row: dict) -> dict:
    return {"id": None, "ancre": f"point-{row['commune']}-{slugify(row['point_collecte'])}",
            "nom": row["point_collecte"], "adresse": "", "hote": "", "depuis": None,
            "horaires": [], "horaires_lisibles": True, "affiche": None,
            "derniere_releve": str(row["derniere_releve"]),
            "telephones_collectes": int(row["telephones_collectes"])}
