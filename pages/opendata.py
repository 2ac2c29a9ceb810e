"""Open data: every published results table as CSV (UTF-8, comma) and JSON, described by one
``datapackage.json`` (Frictionless Data Package with Table Schemas), under Licence Ouverte 2.0.

Headers are the catalogue's indicator ids (the data dictionary's names; the French label, unit
and formula are in the schema). Values are the published values (``row["published"]``): the
numbers on the pages, unformatted. A withheld cell (small-count suppression) and a commune
without data are empty; the ``donnees_recues`` and ``secret_statistique`` columns say which.
Text cells that a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import csv
import io
import json

from pages.csv_cells import csv_cell
from transforms.catalogue import BREAKDOWN_LABELS, UNIT_LABELS, Indicator

ROOT = "donnees/resultats"
LICENCE = {"name": "etalab-2.0", "title": "Licence Ouverte 2.0",
           "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"}
BOOL = {True: "oui", False: "non"}


def _field(name: str, title: str, type_: str, description: str, **extra) -> dict:
    return {"name": name, "title": title, "type": type_, "description": description, **extra}


def indicator_field(ind: Indicator) -> dict:
    """The data dictionary entry of an indicator column."""
    unit = "proportion entre 0 et 1" if ind.unit == "taux" else UNIT_LABELS[ind.unit]
    return _field(ind.id, ind.label, ind.table_type,
                  f"{ind.definition} Calcul : {ind.formula}. Unité : {unit}. Vide : valeur non "
                  f"publiée (commune non renseignée ou secret statistique).")


def rate_field(ind: Indicator) -> dict:
    """The data dictionary entry of an indicator's rate per 1,000 inhabitants."""
    return _field(f"{ind.id}_pour_1000_habitants", f"{ind.label} pour 1 000 habitants",
                  "number", f"{ind.label} divisé par la population légale de la commune (ou du "
                  "territoire) et multiplié par 1 000, arrondi à deux décimales. Vide : valeur "
                  "non publiée ou population inconnue.")


def _commune_rows(table: dict) -> tuple[list[dict], list[dict]]:
    rated = [i for i in table["indicators"] if i.per_inhabitants]
    fields = [
        _field("niveau", "Niveau", "string", "« commune » ou « territoire » (total)."),
        _field("code_insee", "Code INSEE", "string", "Code INSEE de la commune ; vide pour le "
               "total du territoire."),
        _field("commune", "Commune", "string", "Nom de la commune, ou « Territoire »."),
        _field("donnees_recues", "Données reçues", "string",
               "« non » : aucune donnée reçue pour cette commune (non renseigné, pas zéro).",
               constraints={"enum": ["oui", "non"]}),
        _field("secret_statistique", "Secret statistique", "string",
               "« oui » : les valeurs qui compteraient moins de personnes que le seuil, ou qui "
               "permettraient de les retrouver, ne sont pas publiées.",
               constraints={"enum": ["oui", "non"]}),
    ] + [indicator_field(i) for i in table["indicators"]] + [rate_field(i) for i in rated]
    records = []
    rows = [(r, "commune") for r in table["rows"]]
    if table["total"]["renseigne"]:  # as on the page: no total row when nothing was received
        rows.append((table["total"], "territoire"))
    for row, level in rows:
        records.append({"niveau": level, "code_insee": row["commune"],
                        "commune": row["nom_commune"], "donnees_recues": BOOL[row["renseigne"]],
                        "secret_statistique": BOOL[bool(row.get("secret"))],
                        **{i.id: row["published"].get(i.id) for i in table["indicators"]},
                        **{rate_field(i)["name"]: row.get("per_1000", {}).get(i.id)
                           for i in rated}})
    return fields, records


def _breakdown_rows(table: dict) -> tuple[list[dict], list[dict]]:
    fields = [
        _field("niveau", "Niveau", "string", "« detail » ou « total »."),
        _field("modalite", table["dimension_label"], "string",
               f"{BREAKDOWN_LABELS.get(table['dimension'], table['dimension'])}."),
        _field("secret_statistique", "Secret statistique", "string",
               "« oui » : valeurs non publiées (secret statistique).",
               constraints={"enum": ["oui", "non"]}),
    ] + [indicator_field(i) for i in table["indicators"]]
    rows = [(r, "detail") for r in table["rows"]]
    if table.get("total") is not None and table["total"]["renseigne"]:
        rows.append((table["total"], "total"))
    records = [{"niveau": level, "modalite": row["label"],
                "secret_statistique": BOOL[bool(row.get("secret"))],
                **{i.id: row["published"].get(i.id) for i in table["indicators"]}}
               for row, level in rows]
    return fields, records


def _target_rows(targets: list[dict]) -> tuple[list[dict], list[dict]]:
    fields = [
        _field("programme", "Programme", "string", "Programme qui fixe l'objectif."),
        _field("unite", "Unité", "string", "Unité de l'objectif promis."),
        _field("compte", "Ce qui est promis", "string", "Ce que compte une unité de l'objectif."),
        _field("indicateur", "Indicateur", "string", "Identifiant de l'indicateur du catalogue "
               "qui compte exactement ce qui est promis ; vide s'il n'y en a pas."),
        _field("libelle", "Libellé", "string", "Libellé de l'indicateur."),
        _field("debut", "Début de la période", "date", "Premier jour couvert par l'objectif."),
        _field("fin", "Fin de la période", "date", "Dernier jour couvert par l'objectif."),
        _field("objectif", "Objectif", "number", "Valeur visée sur la période."),
        _field("realise", "Réalisé", "number", "Valeur de l'indicateur sur la période, d'après "
               "les données reçues ; vide si aucune donnée ne couvre la période."),
        _field("progression", "Progression", "number", "Réalisé divisé par objectif."),
        _field("manque", "Données manquantes", "string", "Pour un objectif non mesurable avec "
               "les données reçues : les données qui permettraient de le mesurer."),
        _field("source", "Source de l'objectif", "string", "Document qui fixe l'objectif."),
    ]
    return fields, [{f["name"]: t[f["name"]] for f in fields} for t in targets]


def _source_rows(source_list: dict[str, list[dict]]) -> tuple[list[dict], list[dict]]:
    fields = [
        _field("jeu_de_donnees", "Jeu de données", "string", "ateliers, pass, collecte, lieux."),
        _field("partenaire", "Partenaire", "string", "Identifiant du partenaire."),
        _field("nom", "Nom du partenaire", "string", "Nom du partenaire."),
        _field("fichiers", "Fichiers acceptés", "integer", "Nombre de fichiers acceptés."),
        _field("dernier_fichier", "Dernier fichier", "date", "Date de réception du dernier "
               "fichier accepté (fraîcheur)."),
    ]
    records = [{"jeu_de_donnees": dataset, **{f["name"]: item[f["name"]] for f in fields[1:]}}
               for dataset, items in sorted(source_list.items()) for item in items]
    return fields, records


# The provenance table's columns: name, title, type, description.
PROVENANCE_FIELDS = (
    ("jeu_de_donnees", "Jeu de données", "string", "ateliers, pass, collecte, lieux."),
    ("annee", "Année", "integer",
     "Année des chiffres ; vide pour l'annuaire des lieux (état au jour de la publication)."),
    ("donnees_du_fichier", "Données du fichier", "string",
     "Ce que contient le fichier : le jeu de données lui-même, ou « tri » (le fichier de tri "
     "du reconditionneur, qui complète la collecte)."),
    ("partenaire", "Partenaire", "string", "Identifiant du partenaire."),
    ("nom", "Nom du partenaire", "string", "Nom du partenaire."),
    ("fichier", "Fichier reçu", "string", "Nom du fichier tel que le partenaire l'a envoyé."),
    ("recu_le", "Reçu le", "date", "Date de réception du fichier."),
    ("lignes_utilisees", "Lignes utilisées", "integer",
     "Lignes actuelles du fichier rattachées à l'année et à une commune du territoire (une "
     "ligne corrigée compte pour le fichier qui en porte la version actuelle)."),
)


def _provenance_rows(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """The files each figure was computed from (``transforms.results.provenance``): partner,
    file name as received, reception date and rows used, per dataset and year."""
    fields = [_field(*spec) for spec in PROVENANCE_FIELDS]
    return fields, [{**{f["name"]: r.get(f["name"]) for f in fields},
                     "lignes_utilisees": r["lignes"]} for r in records]


def provenance_table(results: dict) -> dict:
    fields, records = _provenance_rows(results.get("provenance", []))
    return {"name": "provenance", "path": "provenance",
            "title": "Provenance des chiffres : fichiers utilisés", "fields": fields,
            "records": records, "page": "/resultats/"}


def _csv(fields: list[dict], records: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([f["name"] for f in fields])
    for record in records:
        writer.writerow([csv_cell(record.get(f["name"])) for f in fields])
    return buffer.getvalue()


def _json(records: list[dict]) -> str:
    return json.dumps(records, ensure_ascii=False, indent=1)


def published_tables(results: dict) -> list[dict]:
    """Every table the pages show: name, path (without extension), title, fields, records."""
    tables = []
    for year in results["years"]:
        for table in results["by_year"][year]["sections"] + results["by_year"][year]["breakdowns"]:
            maker = _commune_rows if table in results["by_year"][year]["sections"] else _breakdown_rows
            fields, records = maker(table)
            tables.append({"name": f"{table['id']}-{year}", "path": f"{year}/{table['id']}",
                           "title": table["title"], "fields": fields, "records": records,
                           "page": f"/resultats/{year}/"})
    for table in results.get("series", []):
        fields, records = _breakdown_rows(table)
        tables.append({"name": table["id"], "path": table["id"], "title": table["title"],
                       "fields": fields, "records": records, "page": "/resultats/"})
    fields, records = _target_rows(results["targets"])
    tables.append({"name": "objectifs", "path": "objectifs", "title": "Objectifs et progression",
                   "fields": fields, "records": records, "page": "/resultats/"})
    fields, records = _source_rows(results["sources"])
    tables.append({"name": "sources", "path": "sources",
                   "title": "Sources et fraîcheur des données", "fields": fields,
                   "records": records, "page": "/resultats/"})
    tables.append(provenance_table(results))
    return tables


def datapackage(tables: list[dict], territory_name: str) -> dict:
    resources = []
    for table in tables:
        schema = {"fields": table["fields"], "missingValues": [""]}
        for fmt in ("csv", "json"):
            resource = {"name": f"{table['name']}-{fmt}", "title": table["title"],
                        "path": f"{table['path']}.{fmt}", "format": fmt,
                        "mediatype": "text/csv" if fmt == "csv" else "application/json",
                        "encoding": "utf-8", "profile": "tabular-data-resource",
                        "schema": schema, "licenses": [LICENCE]}
            if fmt == "csv":
                resource["dialect"] = {"delimiter": ",", "header": True}
            resources.append(resource)
    return {"name": "resultats-inclusion-numerique", "profile": "tabular-data-package",
            "title": f"Résultats du programme d'inclusion numérique — {territory_name}",
            "description": "Indicateurs par année et par commune : ateliers numériques, pass "
                           "numérique, collecte de téléphones, lieux de médiation numérique. "
                           "Définitions : page Méthodologie du site.",
            "licenses": [LICENCE], "resources": resources}


def files(results: dict, territory_name: str) -> dict[str, str]:
    """Relative path under the site root -> file text."""
    tables = published_tables(results)
    out = {}
    for table in tables:
        out[f"{ROOT}/{table['path']}.csv"] = _csv(table["fields"], table["records"])
        out[f"{ROOT}/{table['path']}.json"] = _json(table["records"])
    out[f"{ROOT}/datapackage.json"] = json.dumps(datapackage(tables, territory_name),
                                                 ensure_ascii=False, indent=1)
    return out
