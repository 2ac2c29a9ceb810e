"""Yearly results, driven by the indicator catalogue and the contracts: tables per dataset and
year (one row per commune of the territory plus the territory total), breakdowns, year-on-year
change, targets, sources and freshness, small-count suppression. Figures only:
``pages.results_view`` words them in French, draws the charts and writes the open-data files.

The steps, each in its module: ``config`` (territory.toml's ``[results]``), ``prepare`` (typed
rows per dataset), ``tables`` (commune and breakdown tables), ``years`` (a year's tables, the
change since the year before, the territory year by year), ``targets``, ``sources`` (the
ledger's partners and files), ``provenance`` (the files each figure was computed from).

``compute_results`` is pure (frames in, plain data out) so tests feed it hand-made frames;
``build_results`` reads the warehouse and the ledger and is what ``publish.site`` calls
(passed to Pelican as the ``INCLUSION_RESULTS`` setting, laid out by ``results_pages``).

A published value is rounded once (``catalogue.round_value``); pages format that value and
downloads write it, so both carry the same numbers.
"""

from __future__ import annotations

import logging
from datetime import datetime

from transforms.catalogue import BREAKDOWN_LABELS, CATALOGUE, DATASETS, indicator
from transforms.memo import ResultsMemo, dataset_versions
from transforms.results.config import Target, load_results_config, measuring_indicator
from transforms.results.prepare import (DATED, SNAPSHOTS, Prepared, WarehouseTables,
                                        inputs_version)
from transforms.results.provenance import file_rows, provenance, provenance_records
from transforms.results.sources import reporting, sources
from transforms.results.tables import dataset_tables
from transforms.results.targets import target_row
from transforms.results.years import (add_changes, breakdowns, commune_sections,
                                      territory_series)
from transforms.suppression import DEFAULT_THRESHOLD

log = logging.getLogger(__name__)

__all__ = ["Target", "build_results", "compute_results", "load_results_config", "sources"]


def compute_results(frames, communes: dict[str, str], now: datetime,
                    threshold: int = DEFAULT_THRESHOLD, targets: list[Target] | None = None,
                    source_list: dict[str, list[dict]] | None = None,
                    venues_covered: set[str] | None = None, memo: ResultsMemo | None = None,
                    versions: dict[str, str] | None = None,
                    populations: dict[str, int] | None = None,
                    received: dict[tuple[str, str], dict] | None = None) -> dict:
    """``frames``: current rows per dataset (a mapping, possibly lazy). With a ``memo`` and the
    datasets' ``versions``, what one dataset alone determines (yearly tables, targets) is read
    back from an earlier build when that dataset has not changed, without reading it.
    ``populations`` (INSEE code -> inhabitants) gives the per-1,000-inhabitant rates.
    ``received``: the ledger's accepted files (``sources.received_files``), which each year's
    ``origins`` name with the rows each gave (``provenance``)."""
    data = Prepared(frames, communes)
    memo = memo or ResultsMemo(None)
    versions = versions or {}  # with a memo, the ledger's (``memo.dataset_versions``)
    source_list = source_list or {}
    yearly = {d: memo.get(("tables", d, inputs_version(d, versions)),
                          lambda d=d: dataset_tables(d, data[d], communes, threshold))
              for d in DATED}
    used = {d: memo.get(("provenance", d, inputs_version(d, versions)),
                        lambda d=d: file_rows(d, data, communes)) for d in DATED}
    used.update({d: file_rows(d, data, communes) for d in SNAPSHOTS})
    years = sorted({year for d in DATED for year in yearly[d]["years"] if year <= now.year})
    by_year = {year: {"annee": year,
                      "sections": commune_sections(year, yearly, data, communes, threshold,
                                                   venues_covered, source_list,
                                                   populations or {}),
                      "breakdowns": breakdowns(year, data, threshold),
                      "origins": {d: provenance(d, used[d], received or {},
                                                year if d in DATED else None)
                                  for d in DATASETS}}
               for year in years}
    add_changes(by_year)
    return {
        "threshold": threshold,
        "years": years, "by_year": by_year, "series": territory_series(by_year, years),
        "targets": [_target(target, data, memo, versions) for target in targets or []],
        "sources": source_list,
        "provenance": [record for year in years for record in provenance_records(
            {d: by_year[year]["origins"][d] for d in DATED}, year)] + provenance_records(
            {d: provenance(d, used[d], received or {}) for d in SNAPSHOTS}, None),
        "catalogue": CATALOGUE, "datasets": DATASETS, "breakdown_labels": BREAKDOWN_LABELS,
    }


def _target(target: Target, data: Prepared, memo: ResultsMemo, versions: dict[str, str]) -> dict:
    ind = measuring_indicator(target)
    version = inputs_version(ind.dataset, versions) if ind else "-"
    return memo.get(("target", repr(target), version), lambda: target_row(target, data))


def build_results(territory, now: datetime, tables: WarehouseTables | None = None) -> dict:
    """What the results pages show, from the warehouse, the ledger and territory.toml.
    ``tables``: the build's tables when the site data read some of them already."""
    from pipeline.config import data_paths
    from pipeline.load import ledger

    threshold, targets = load_results_config()
    for commune in territory.communes:
        if not commune.population:
            log.warning("Population inconnue ou nulle pour %s (%s) dans territory.toml : ses "
                        "taux pour 1 000 habitants, et ceux du territoire, sont « non "
                        "renseigné ».", commune.name, commune.insee)
    entries = ledger.entries()
    who = reporting(entries, territory)
    memo = ResultsMemo(data_paths().root / "cache" / "resultats",
                       f"{sorted(territory.commune_names.items())!r}|{threshold}|"
                       f"{sorted(territory.populations.items())!r}")
    results = compute_results(WarehouseTables() if tables is None else tables,
                              territory.commune_names, now, threshold,
                              targets, who.sources, who.covered, memo,
                              dataset_versions(entries), territory.populations, who.files)
    memo.prune()
    results["population"] = {"annee": territory.population_year,
                             "source": territory.population_source}
    return results
