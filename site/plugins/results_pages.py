"""Pelican plugin: yearly results pages, methodology and open data, from ``INCLUSION_RESULTS``
(computed by ``transforms.results.build_results``, worded by ``pages.results_view.present``;
the catalogue drives every label).

Pages (planned in ``pages.page_plan.results_plan``):
- ``resultats/``                       index of years, targets, sources and freshness
- ``resultats/<année>/``                territory: key figures of each dataset, targets
- ``resultats/<année>/<données>/``      one dataset: chart and table by commune, breakdowns
- ``resultats/<année>/<code INSEE>/``   one commune for one year
- ``resultats/methodologie/``           common rules, and the catalogue per dataset under
  ``resultats/methodologie/<données>/``, in French
- ``donnees/``                          open data: every file, data dictionary, licence
and the files of ``donnees/resultats/`` (CSV, JSON, datapackage.json).
"""

from __future__ import annotations

from pelican import signals
from pelican.generators import Generator

from pages.page_plan import results_plan, write_plan


class ResultsPagesGenerator(Generator):
    def generate_context(self) -> None:
        results = self.settings.get("INCLUSION_RESULTS")
        if results is None:
            raise RuntimeError("INCLUSION_RESULTS is not set: build the site with publish.site")
        self.context["results"] = results

    def generate_output(self, writer) -> None:
        write_plan(self, writer, results_plan(self.context["results"]))


def get_generators(_pelican):
    return ResultsPagesGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)
