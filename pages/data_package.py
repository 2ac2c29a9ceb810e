"""The one data package of ``/donnees/`` (``donnees/datapackage.json``, Frictionless Data
Package with Table Schemas): the results tables under ``resultats/`` (``pages.opendata``), the
yearly workbooks (``pages.workbook``), the upcoming workshops and the phone collection points
(``pages.public_tables``) and the venue directory (``lieux.csv``, ``lieux.json``), with how to
cite them (``pages.citation``).

``add_open_data`` completes what ``pages.results_view.present`` made, once the site data is
known: the results pages and /donnees/ then read ``results["citation"]``, each table's
``citation`` and ``results["open_data"]``.
"""

from __future__ import annotations

import json
from datetime import datetime

from pages import opendata, public_tables, workbook
from pages.citation import LICENCE, citation, open_data_title, package_properties, \
    table_citation

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PACKAGE = "donnees/datapackage.json"
RESULTS_PACKAGE = f"{opendata.ROOT}/datapackage.json"


def _under(resources: list[dict], folder: str) -> list[dict]:
    return [{**r, "path": f"{folder}/{r['path']}"} for r in resources]


def _workbook_resources(years: list[int]) -> list[dict]:
    return [{"name": f"resultats-{year}-xlsx", "title": f"Résultats {year} (classeur)",
             "description": "Une feuille par tableau de l'année (mêmes valeurs que les CSV), "
                            "les définitions des colonnes et « À propos » (comment citer).",
             "path": workbook.workbook_path(year).removeprefix("donnees/"), "format": "xlsx",
             "mediatype": XLSX, "profile": "data-resource", "licenses": [LICENCE]}
            for year in years]


def package(result_tables: list[dict], extra_tables: list[dict], years: list[int],
            territory_name: str, cite: dict, partners: list[str]) -> dict:
    """The data package describing every file of /donnees/ (paths relative to it)."""
    results = opendata.datapackage(result_tables, territory_name)
    resources = (_under(results["resources"], "resultats") + _workbook_resources(years)
                 + opendata.datapackage(extra_tables, territory_name)["resources"]
                 + public_tables.venue_resources())
    # "data-package": the workbooks and lieux.json are files, not tables; every CSV and tabular
    # JSON is still a "tabular-data-resource" validated against its Table Schema.
    return {"name": "donnees-inclusion-numerique", "profile": "data-package",
            "title": open_data_title(territory_name),
            "description": "Résultats par année et par commune (ateliers numériques, pass "
                           "numérique, collecte de téléphones, lieux de médiation numérique), "
                           "prochains ateliers, points de collecte de téléphones et annuaire "
                           "des lieux. Définitions : page Méthodologie du site.",
            "licenses": [LICENCE], **package_properties(cite, partners),
            "resources": resources}


def _partners(results: dict) -> list[str]:
    return sorted({item["nom"] for items in results.get("sources", {}).values()
                   for item in items})


def _cite_tables(results: dict, cite: dict) -> None:
    """Each yearly table's own citation sentence, shown beside its downloads."""
    for year in results["years"]:
        for key in ("sections", "breakdowns"):
            for table in results["by_year"][year][key]:
                table["citation"] = table_citation(
                    cite, table["title"], f"{opendata.ROOT}/{year}/{table['id']}.csv")


def add_open_data(results: dict, site: dict, now: datetime) -> dict:
    """``results`` with the whole /donnees/ folder in ``files`` (text, or bytes for the
    workbooks), its citation and the list /donnees/ shows, in place."""
    territory = site["territory"]
    cite = citation(territory["name"], territory.get("site_url", ""), now)
    extra = [public_tables.upcoming_workshops(site["upcoming"], territory.get("site_url", "")),
             public_tables.phone_pickups(site.get("phone_pickups", []),
                                         {code: name for code, name in _communes(site)}),
             public_tables.collection_bins(site.get("phone_points", []),
                                           territory.get("site_url", ""))]
    result_tables = opendata.published_tables(results)
    years = list(results["years"])
    files = {path: text for path, text in results["files"].items() if path != RESULTS_PACKAGE}
    files.update(public_tables.files(extra))
    files.update(workbook.year_workbooks(result_tables, years, cite))
    files[PACKAGE] = json.dumps(package(result_tables, extra, years, territory["name"], cite,
                                        _partners(results)), ensure_ascii=False, indent=1)
    results["files"] = files
    results["citation"] = cite
    results["open_data"] = {
        "workbooks": [{"year": year, "path": workbook.workbook_path(year)} for year in years],
        "tables": [{"title": t["title"], "path": t["path"], "page": t["page"]} for t in extra]}
    _cite_tables(results, cite)
    return results


def _communes(site: dict) -> list[tuple[str, str]]:
    """Commune codes and names the site knows (phone points' and workshops' communes)."""
    pairs = [(g["commune"], g["nom_commune"]) for g in site.get("phone_points", [])]
    return pairs + list(site.get("workshop_communes", []))
