"""Pelican plugin: pages generated from the site data computed by ``transforms.site_data``.

Pages come from data, not from Markdown files, so partner text is never parsed as Markdown and
always goes through Jinja's autoescaping.
"""

from __future__ import annotations

from pathlib import Path

from pelican import signals
from pelican.generators import Generator

from pipeline.contracts import CONTRACTS


class DataPagesGenerator(Generator):
    def generate_context(self) -> None:
        data = self.settings.get("INCLUSION_SITE")
        if data is None:
            raise RuntimeError("INCLUSION_SITE is not set: build the site with pipeline.publish")
        self.context["site"] = data

    def _write(self, writer, save_as: str, template: str, breadcrumb: list, **context) -> None:
        writer.write_file(save_as, self.get_template(template), self.context,
                          relative_urls=False, page_name=save_as.removesuffix("index.html"),
                          breadcrumb=breadcrumb, **context)

    def generate_output(self, writer) -> None:
        site = self.context["site"]
        home = ("Accueil", "/")
        self._write(writer, "index.html", "home", [])
        self._write(writer, "partenaires/index.html", "partners", [home],
                    title="Espace partenaires : envoyer vos données",
                    contracts=list(CONTRACTS.values()))
        self._write(writer, "ateliers/index.html", "workshops", [home],
                    title="Prochains ateliers numériques")
        results_crumb = ("Résultats", "/resultats/")
        self._write(writer, "resultats/index.html", "results_index", [home],
                    title="Résultats par année")
        for year in site["years"]:
            self._write(writer, f"resultats/{year}/index.html", "results_year",
                        [home, results_crumb], title=f"Résultats {year}",
                        result=site["results"][year])
        self._write_venues(writer, site, home)
        self._write(writer, "telephones/index.html", "phones", [home],
                    title="Où déposer un vieux téléphone")

    def _write_venues(self, writer, site: dict, home: tuple) -> None:
        venues = site["venues"]
        self._write(writer, "lieux/index.html", "venues", [home],
                    title="Lieux d'aide au numérique",
                    services=sorted({s for v in venues for s in v["services"]}),
                    publics=sorted({p for v in venues for p in v["publics"]}))
        crumb = ("Lieux d'aide", "/lieux/")
        for venue in venues:
            self._write(writer, f"lieux/{venue['slug']}/index.html", "venue", [home, crumb],
                        title=venue["nom"], v=venue)
        exports = site.get("exports", {})
        folder = Path(self.output_path) / "donnees"
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in exports.items():
            (folder / name).write_text(text, encoding="utf-8")


def get_generators(_pelican):
    return DataPagesGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)
