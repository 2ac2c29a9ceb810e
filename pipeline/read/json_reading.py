"""Reading JSON and GeoJSON exports into cells, beside CSV and XLSX.

Open-data portals and GIS tools publish venue directories as a JSON array of objects (one per
row, keys as columns) or as a GeoJSON FeatureCollection of points (the properties are the
columns, the point gives ``longitude`` and ``latitude``). Row k of the file is reported as
spreadsheet line k + 1, like every other format (line 1 being the header).

The guards match the other readers: a size limit before parsing (a JSON document is parsed
whole in memory), a French refusal for anything that is not an array of objects, and nested
values named rather than crashing: a list of plain values is a list (joined with « | », the
contract's separator), an object or a list of objects inside a cell is refused with its place.
"""

from __future__ import annotations

import json

import pandas as pd

from pipeline import settings
from pipeline.read.unreadable import UnreadableFile
from pipeline.receive.filing import JSON_SUFFIXES
SHAPE_ADVICE = ("Exportez un tableau d'objets (un objet par lieu) ou une FeatureCollection "
                "GeoJSON de points, ou bien un fichier CSV.")


def is_json_name(name: str) -> bool:
    return name.lower().endswith(JSON_SUFFIXES)


def read_json_cells(raw: bytes) -> pd.DataFrame:
    """One row per object (or feature), one column per key, in order of first appearance."""
    max_mb = settings.get("INCLUSION_MAX_JSON_MB")
    if len(raw) > max_mb * 1_000_000:
        raise UnreadableFile(f"Le fichier est trop gros ({len(raw) / 1_000_000:.0f} Mo ; au "
                             f"plus {max_mb:.0f} Mo pour un fichier JSON). Découpez-le en "
                             "plusieurs fichiers plus petits.")
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UnreadableFile("Le fichier JSON est mal formé ou tronqué et n'a pas pu être lu. "
                             + SHAPE_ADVICE) from exc
    records = _records(document)
    if not records:
        raise UnreadableFile("Le fichier ne contient aucun lieu (tableau vide).")
    rows = [_flat(record, number) for number, record in enumerate(records, start=1)]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    # object dtype: identifiers and codes stay as written (no float conversion of gaps).
    return pd.DataFrame([[row.get(c, "") for c in columns] for row in rows], columns=columns,
                        dtype=object)


def _records(document: object) -> list[dict]:
    if isinstance(document, dict) and document.get("type") == "FeatureCollection":
        return [_feature(f, n) for n, f in enumerate(document.get("features") or [], start=1)]
    if not isinstance(document, list):
        raise UnreadableFile("Le fichier JSON n'est pas un tableau d'objets : il contient un "
                             f"{_kind(document)} au premier niveau. " + SHAPE_ADVICE)
    for number, record in enumerate(document, start=1):
        if not isinstance(record, dict):
            raise UnreadableFile(f"L'élément n° {number} du tableau est un {_kind(record)}, "
                                 "pas un objet. " + SHAPE_ADVICE)
    return document


def _feature(feature: object, number: int) -> dict:
    if not isinstance(feature, dict) or not isinstance(feature.get("properties") or {}, dict):
        raise UnreadableFile(f"L'élément n° {number} de la FeatureCollection n'est pas un "
                             "objet GeoJSON « Feature ». " + SHAPE_ADVICE)
    row = dict(feature.get("properties") or {})
    geometry = feature.get("geometry")
    if geometry is None:
        return row
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if (not isinstance(geometry, dict) or geometry.get("type") != "Point"
            or not isinstance(coordinates, list) or len(coordinates) < 2):
        raise UnreadableFile(f"L'élément n° {number} de la FeatureCollection n'est pas un point "
                             "(Point) : un lieu se situe par un point longitude, latitude. "
                             + SHAPE_ADVICE)
    # The point is the venue's position; properties keep theirs if they have their own.
    row.setdefault("longitude", coordinates[0])
    row.setdefault("latitude", coordinates[1])
    return row


def _flat(record: dict, number: int) -> dict:
    row = {}
    for key, value in record.items():
        if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
            value = "|".join("" if v is None else str(v) for v in value)
        elif isinstance(value, dict | list):
            raise UnreadableFile(f"L'objet n° {number}, clé « {key} », contient une valeur "
                                 "imbriquée (un objet ou une liste d'objets) qui ne tient pas "
                                 "dans une case. Mettez une valeur simple par clé.")
        row[str(key)] = "" if value is None else value
    return row


def _kind(value: object) -> str:
    return {dict: "objet", list: "tableau", str: "texte", bool: "booléen", int: "nombre",
            float: "nombre"}.get(type(value), "valeur vide")
