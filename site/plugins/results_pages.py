"""Pelican plugin: yearly results pages, methodology and open data, from ``INCLUSION_RESULTS``
(computed by ``transforms.results.build_results``; the catalogue drives every label).

Pages:
- ``resultats/``                       index of years, targets, sources and freshness
- ``resultats/<année>/``                territory: key figures, charts, tables, downloads
- ``resultats/<année>/<code INSEE>/``   one commune for one year
- ``resultats/methodologie/``           the catalogue, in French
- ``donnees/``                          open data: every file, data dictionary, licence
and the files of ``donnees/resultats/`` (CSV, JSON, datapackage.json).
"""

from __future__ import annotations

from pathlib import Path

from pelican import signals
from pelican.generators import Generator


class ResultsPagesGenerator(Generator):
    def generate_context(self) -> None:
        results = self.settings.get("INCLUSION_RESULTS")
        if results is None:
            raise RuntimeError("INCLUSION_RESULTS is not set: build the site with pipeline.publish")
        self.context["results"] = results

    def _write(self, writer, save_as: str, template: str, breadcrumb: list, **context) -> None:
        writer.write_file(save_as, self.get_template(template), self.context,
                          relative_urls=False, page_name=save_as.removesuffix("index.html"),
                          breadcrumb=breadcrumb, **context)

    def generate_output(self, writer) -> None:
        results = self.context["results"]
        home = ("Accueil", "/")
        crumb = ("Résultats", "/resultats/")
        output = Path(self.output_path)
        for relative, text in results.get("files", {}).items():
            target = output / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        self._write(writer, "resultats/index.html", "results_index", [home],
                    title="Résultats par année")
        self._write(writer, "resultats/methodologie/index.html", "methodology", [home, crumb],
                    title="Méthodologie des indicateurs")
        self._write(writer, "donnees/index.html", "opendata", [home],
                    title="Données ouvertes", opendata_tables=results.get("tables", []))
        for year in results["years"]:
            result = results["by_year"][year]
            self._write(writer, f"resultats/{year}/index.html", "results_year", [home, crumb],
                        title=f"Résultats {year}", result=result)
            year_crumb = (f"Résultats {year}", f"/resultats/{year}/")
            for index, row in enumerate(result["sections"][0]["rows"]):
                rows = [(table, table["rows"][index]) for table in result["sections"]]
                self._write(writer, f"resultats/{year}/{row['commune']}/index.html",
                            "results_commune", [home, crumb, year_crumb],
                            title=f"{row['nom_commune']} : résultats {year}", result=result,
                            commune=row, rows=rows)


def get_generators(_pelican):
    return ResultsPagesGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)
