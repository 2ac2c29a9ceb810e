"""« Comment citer ces données » : who publishes the open data, under which title, as of which
build, where and under which licence — the same words on /donnees/, beside each table's
downloads and in the data package (``citation``, ``contributors``, ``sources``).

The producer is the territory (territory.toml ``name``), the address its ``site_url``, the date
the build's day (the run's time, never the wall clock), so two builds of one day cite alike.
"""

from __future__ import annotations

from datetime import datetime

from pages.formatting import short_date

LICENCE = {"name": "etalab-2.0", "title": "Licence Ouverte 2.0",
           "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"}
OPEN_DATA_PATH = "/donnees/"


def open_data_title(territory_name: str) -> str:
    return f"Données ouvertes de l'inclusion numérique — {territory_name}"


def citation(territory_name: str, site_url: str, built: datetime) -> dict:
    """The citation of the whole open data of one build; ``text`` is the sentence to copy."""
    day = built.date()
    url = f"{site_url.rstrip('/')}{OPEN_DATA_PATH}"
    title = open_data_title(territory_name)
    return {"producer": territory_name, "title": title, "date": day.isoformat(),
            "date_text": short_date(day), "created": built.isoformat(timespec="seconds"),
            "url": url, "site_url": site_url,
            "licence": LICENCE["title"], "licence_url": LICENCE["path"],
            "text": cite_text(territory_name, title, day.isoformat(), url)}


def cite_text(producer: str, title: str, day: str, url: str) -> str:
    """« Producteur, « titre », données mises à jour le …, adresse, Licence Ouverte 2.0. »"""
    return (f"{producer}, « {title} », données mises à jour le {short_date(day)}, {url}, "
            f"{LICENCE['title']}.")


def table_citation(cite: dict, title: str, path: str) -> str:
    """The sentence for one published table (``path``: its file under the site root, e.g.
    ``donnees/resultats/2026/ateliers-communes.csv``)."""
    return cite_text(cite["producer"], title, cite["date"],
                     f"{cite['site_url'].rstrip('/')}/{path}")


def package_properties(cite: dict, partners: list[str]) -> dict:
    """Data package properties (Frictionless): the producer as publisher, each partner whose
    files are counted as a source, the build's time and the sentence to cite."""
    return {"homepage": cite["url"], "created": cite["created"],
            "version": cite["date"],
            "contributors": [{"title": cite["producer"], "path": cite["site_url"],
                              "role": "publisher"}],
            "sources": [{"title": name} for name in partners],
            "citation": cite["text"]}
