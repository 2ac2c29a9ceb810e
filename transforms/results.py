"""Yearly results, driven by the indicator catalogue: tables per dataset and year (one row per
commune of the territory plus the territory total), breakdowns, year-on-year change, targets,
sources and freshness, small-count suppression. Figures only: ``pages.results_view`` words
them in French, draws the charts and writes the open-data files.

``compute_results`` is pure (frames in, plain data out) so tests feed it hand-made frames;
``build_results`` reads the warehouse and the ledger and is what ``publish.site`` calls
(passed to Pelican as the ``INCLUSION_RESULTS`` setting, laid out by ``results_pages``).

A published value is rounded once (``catalogue.round_value``); pages format that value and
downloads write it, so both carry the same numbers.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from pipeline.contracts.datasets import CONTRACTS, SORTING
from transforms.catalogue import (BREAKDOWN_LABELS, CATALOGUE, DATASETS, HELD, STATUS, Groups,
                                  Indicator, delay_days, indicator, indicators_of, round_value)
from transforms.memo import ResultsMemo, dataset_versions
from transforms.suppression import DEFAULT_THRESHOLD, suppress

YEARLY = ("ateliers", "pass", "collecte")
BREAKDOWNS = (("ateliers", "thematique", ("seances_realisees", "participants"), "Thématique"),
              ("ateliers", "public", ("seances_realisees", "participants"), "Public visé"))


@dataclass(frozen=True)
class Target:
    id: str
    programme: str
    indicator: str
    value: float
    start: str  # ISO dates, inclusive
    end: str
    source: str = ""


# --- configuration ---------------------------------------------------------------------------

def load_results_config(path: Path | None = None) -> tuple[int, list[Target]]:
    """The ``[results]`` section of territory.toml: suppression threshold and targets."""
    from pipeline import settings

    path = path or settings.get("INCLUSION_TERRITORY")
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("results", {})
    targets = [Target(id=t["id"], programme=t["programme"], indicator=t["indicator"],
                      value=float(t["value"]), start=str(t["start"]), end=str(t["end"]),
                      source=t.get("source", "")) for t in raw.get("targets", [])]
    for target in targets:
        indicator(target.indicator)  # unknown ids fail the build loudly
    return int(raw.get("suppression_threshold", DEFAULT_THRESHOLD)), targets


# --- preparing rows --------------------------------------------------------------------------

def _numeric(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    for column in columns:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def _source(frames, name: str) -> pd.DataFrame:
    try:
        return frames[name]  # a lazy mapping reads the table here
    except KeyError:
        return pd.DataFrame()


def _typed(frames, dataset: str) -> pd.DataFrame:
    """The dataset's rows, its contract's integer and decimal columns as numbers."""
    return _numeric(_source(frames, dataset).copy(), CONTRACTS[dataset].numeric_columns)


def _prepare_one(dataset: str, frames) -> pd.DataFrame:
    if dataset == "ateliers":
        frame = _typed(frames, "ateliers")
    elif dataset == "pass":
        frame = _typed(frames, "pass")
        if not frame.empty:
            frame["delai_jours"] = delay_days(frame)
    elif dataset == "collecte":
        frame = _typed(frames, "collecte")
        sorting = _typed(frames, "tri")
        if not frame.empty:
            sorted_counts = list(SORTING.numeric_columns)
            if sorting.empty:
                frame = frame.assign(**{column: float("nan") for column in sorted_counts})
            else:
                counts = (sorting.groupby(SORTING.key, as_index=False)[sorted_counts]
                          .sum(min_count=1))
                frame = frame.merge(counts, how="left", on=SORTING.key)
    else:
        frame = _source(frames, dataset).copy()
        if dataset == "lieux" and not frame.empty:
            frame["commune"] = frame["code_insee"]
    column = DATASETS[dataset].date_column if dataset in YEARLY else None
    if column and not frame.empty:
        frame["annee"] = frame[column].astype(str).str.slice(0, 4).astype(int)
    return frame


class Prepared(dict):
    """Current rows per dataset -> typed frames with ``annee`` and ``commune`` columns, each
    prepared (and its table read) on first use only. ``collecte`` is joined with the
    refurbisher's sorting (``tri``) on the pickup id. With ``communes``, rows whose commune is
    unknown or outside the territory are left out: they count in no commune, and the
    territory's totals stay the sum of its communes."""

    def __init__(self, frames, communes: dict[str, str] | None = None) -> None:
        super().__init__()
        self.frames = frames
        self.communes = communes

    def __missing__(self, dataset: str) -> pd.DataFrame:
        frame = _prepare_one(dataset, self.frames)
        if self.communes is not None and not frame.empty:
            frame = frame[frame["commune"].isin(self.communes)]
        self[dataset] = frame
        return frame


# --- tables ----------------------------------------------------------------------------------

def _values(rows: pd.DataFrame, indicators: list[Indicator]) -> dict:
    groups = Groups(rows)  # one group; its row masks are shared by the indicators
    return {i.id: round_value(i, float(i.grouped(groups).iloc[0])) for i in indicators}


def _values_by(rows: pd.DataFrame, column: str, indicators: list[Indicator]) -> dict[str, dict]:
    """``_values`` for every value of ``column`` at once (one pandas pass per indicator)."""
    if rows.empty:
        return {}
    groups = Groups(rows, column)
    series = {i.id: i.grouped(groups) for i in indicators}
    return {code: {i.id: round_value(i, series[i.id][code]) for i in indicators}
            for code in groups.index}


def _finish(row: dict, indicators: list[Indicator], threshold: int) -> None:
    """Withhold revealing values of secret rows."""
    secret = row.get("secret", False)
    row["published"] = {i.id: (None if (secret and i.reveals_people) or not row["renseigne"]
                               else row["values"].get(i.id)) for i in indicators}


def commune_table(dataset: str, rows: pd.DataFrame, communes: dict[str, str], threshold: int,
                  covered: set[str] | None = None) -> dict:
    """One row per commune of the territory (sorted by name) and the territory total."""
    indicators = [i for i in indicators_of(dataset) if "commune" in i.breakdowns]
    by_commune = _values_by(rows, "commune", indicators)
    empty = _values(rows.iloc[0:0], indicators) if covered else {}
    table_rows = []
    for code, name in sorted(communes.items(), key=lambda item: item[1]):
        values = by_commune.get(code)
        reported = values is not None or (covered is not None and code in covered)
        table_rows.append({"commune": code, "nom_commune": name, "sort": name,
                           "renseigne": reported,
                           "values": (values if values is not None else empty) if reported else {}})
    total = {"commune": "", "nom_commune": "Territoire", "sort": "", "renseigne": not rows.empty,
             "values": _values(rows, indicators_of(dataset)) if not rows.empty else {}}
    people = DATASETS[dataset].people
    if people:
        suppress(table_rows, total, people, threshold)
    for row in table_rows:
        _finish(row, indicators, threshold)
    _finish(total, indicators_of(dataset), threshold)
    return {"dataset": dataset, "indicators": indicators, "rows": table_rows, "total": total}


def dataset_tables(dataset: str, rows: pd.DataFrame, communes: dict[str, str],
                   threshold: int) -> dict:
    """A yearly dataset's commune table for each year it has rows, and the table of a year
    without rows. Indicator objects are given as ids, so the result can be stored."""
    def plain(table: dict) -> dict:
        return {**table, "indicators": [i.id for i in table["indicators"]]}

    years = sorted(int(y) for y in rows["annee"].unique()) if not rows.empty else []
    return {"years": {year: plain(commune_table(dataset, rows[rows["annee"] == year], communes,
                                                threshold)) for year in years},
            "empty": plain(commune_table(dataset, rows.iloc[0:0], communes, threshold))}


def _with_indicators(table: dict) -> dict:
    return {**copy.deepcopy(table), "indicators": [indicator(i) for i in table["indicators"]]}


def breakdown_table(dataset: str, dimension: str, ids: tuple[str, ...], rows: pd.DataFrame,
                    labels: dict[str, str], threshold: int) -> dict:
    indicators = [indicator(i) for i in ids]
    table_rows = []
    for code, values in sorted(_values_by(rows, dimension, indicators).items(),
                               key=lambda item: str(item[0])):
        label = labels.get(code, code)
        table_rows.append({"code": code, "label": label, "sort": label, "renseigne": True,
                           "values": values})
    total = {"code": "", "label": "Total", "sort": "", "renseigne": not rows.empty,
             "values": _values(rows, indicators) if not rows.empty else {}}
    people = DATASETS[dataset].people
    if people in ids:
        suppress(table_rows, total, people, threshold)
    for row in table_rows + [total]:
        _finish(row, indicators, threshold)
    return {"dataset": dataset, "dimension": dimension, "indicators": indicators,
            "rows": table_rows, "total": total}


def venue_breakdown(venues: pd.DataFrame, column: str, threshold: int) -> dict:
    """Venues per service or per label (a venue offering two services counts in both)."""
    ind = indicator("lieux_recenses")
    counts: dict[str, int] = {}
    if not venues.empty and column in venues:
        for value in venues[column].dropna().astype(str):
            for item in {v.strip() for v in value.split("|") if v.strip()}:
                counts[item] = counts.get(item, 0) + 1
    rows = []
    for label, count in sorted(counts.items()):
        row = {"code": label, "label": label, "sort": label, "renseigne": True,
               "values": {ind.id: count}}
        _finish(row, [ind], threshold)
        rows.append(row)
    return {"dataset": "lieux", "dimension": column, "indicators": [ind], "rows": rows,
            "total": None}


# --- change, targets, sources ----------------------------------------------------------------

def change(ind: Indicator, now, before) -> dict | None:
    """Year-on-year change of two published values (None when either is not published):
    a difference for counts, in percentage points for rates."""
    if now is None or before is None:
        return None
    return {"delta": round(now - before, 3 if ind.unit == "taux" else ind.decimals)}


def target_row(target: Target, data) -> dict:
    """Progress towards one target (``data``: prepared frames, see ``Prepared``)."""
    ind = indicator(target.indicator)
    rows = data[ind.dataset]
    column = DATASETS[ind.dataset].date_column
    if column and not rows.empty:
        dates = rows[column].astype(str)
        rows = rows[(dates >= target.start) & (dates <= target.end)]
    value = round_value(ind, ind.compute(rows)) if not rows.empty else None
    return {"id": target.id, "programme": target.programme, "indicateur": ind.id,
            "libelle": ind.label, "objectif": round_value(ind, target.value),
            "debut": target.start, "fin": target.end, "source": target.source,
            "realise": value,
            "progression": round(value / target.value, 3) if value is not None else None}


def sources(entries: list, partners: dict[str, str],
            coverage: dict[str, list[str]] | None = None) -> dict[str, list[dict]]:
    """Per dataset: each partner with its number of accepted files, the date of its latest
    one (the ledger's reception time) and the communes it reports for (``coverage``; ``*`` for
    all). The refurbisher's sorting counts for ``collecte``."""
    coverage = coverage or {}
    out: dict[str, dict[str, dict]] = {}
    for entry in entries:
        if entry.status == "rejete":
            continue
        dataset = "collecte" if entry.dataset == "tri" else entry.dataset
        item = out.setdefault(dataset, {}).setdefault(entry.partner, {
            "partenaire": entry.partner, "nom": partners.get(entry.partner, entry.partner),
            "communes": coverage.get(entry.partner, ["*"]), "fichiers": 0, "dernier_fichier": ""})
        item["fichiers"] += 1
        item["dernier_fichier"] = max(item["dernier_fichier"], entry.received_at[:10])
    return {d: sorted(p.values(), key=lambda i: i["nom"]) for d, p in out.items()}


# --- assembly --------------------------------------------------------------------------------

def _labels(dataset: str, column: str) -> dict[str, str]:
    from pipeline.contracts.datasets import CONTRACTS

    try:
        return {c.code: c.label for c in CONTRACTS[dataset].column(column).choices}
    except KeyError:
        return {}


def compute_results(frames, communes: dict[str, str], now: datetime,
                    threshold: int = DEFAULT_THRESHOLD, targets: list[Target] | None = None,
                    source_list: dict[str, list[dict]] | None = None,
                    venues_covered: set[str] | None = None, memo: ResultsMemo | None = None,
                    versions: dict[str, str] | None = None) -> dict:
    """``frames``: current rows per dataset (a mapping, possibly lazy). With a ``memo`` and the
    datasets' ``versions``, what one dataset alone determines (yearly tables, targets) is read
    back from an earlier build when that dataset has not changed, without reading it."""
    data = Prepared(frames, communes)
    memo = memo or ResultsMemo(None)
    versions = versions or {}  # with a memo, the ledger's (``memo.dataset_versions``)
    source_list = source_list or {}
    yearly = {d: memo.get(("tables", d, _inputs_version(d, versions)),
                          lambda d=d: dataset_tables(d, data[d], communes, threshold))
              for d in YEARLY}
    years = sorted({year for d in YEARLY for year in yearly[d]["years"] if year <= now.year})
    venues = data["lieux"]
    by_year: dict[int, dict] = {}
    for year in years:
        sections = []
        for dataset in YEARLY:
            stored = yearly[dataset]["years"].get(year, yearly[dataset]["empty"])
            sections.append(_with_indicators(stored))
        venue_table = commune_table("lieux", venues, communes, threshold,
                                    covered=venues_covered)
        sections.append(venue_table)
        for table in sections:
            title = f"{DATASETS[table['dataset']].title} en {year}, par commune"
            table.update(
                id=f"{table['dataset']}-communes", title=title,
                source=source_list.get(table["dataset"], []),
                date_meaning=DATASETS[table["dataset"]].date_meaning)
        breakdowns = []
        for dataset, dimension, ids, label in BREAKDOWNS:
            rows = data[dataset]
            rows = rows[rows["annee"] == year] if not rows.empty else rows
            held = rows[rows[STATUS] == HELD] if not rows.empty else rows
            table = breakdown_table(dataset, dimension, ids, held, _labels(dataset, dimension),
                                    threshold)
            table.update(id=f"{dataset}-{dimension}", dimension_label=label,
                         title=f"{DATASETS[dataset].title} réalisés en {year}, par "
                               f"{label.lower()}")
            breakdowns.append(table)
        for column, label in (("services", "Service"), ("dispositif_programmes_nationaux",
                                                         "Label ou dispositif")):
            table = venue_breakdown(venues, column, threshold)
            table.update(id=f"lieux-{column.split('_')[0]}", dimension_label=label,
                         title=f"Lieux recensés, par {label.lower()}")
            breakdowns.append(table)
        by_year[year] = {"annee": year, "sections": sections, "breakdowns": breakdowns}
    # Year-on-year change, on published values only.
    for year in years:
        before = by_year.get(year - 1)
        for index, table in enumerate(by_year[year]["sections"]):
            # The venue directory is a snapshot (same on every year's page): no change.
            dated = DATASETS[table["dataset"]].date_column is not None
            previous = before["sections"][index] if before and dated else None
            prev_rows = {r["commune"]: r for r in previous["rows"]} if previous else {}
            for row in table["rows"] + [table["total"]]:
                old = prev_rows.get(row["commune"]) if row["commune"] else (
                    previous["total"] if previous else None)
                row["change"] = {i: change(indicator(i), v, old["published"].get(i) if old else None)
                                 for i, v in row["published"].items()}
    # The territory year by year: the total rows of the yearly tables, as published.
    series = []
    for index, dataset in enumerate(YEARLY):
        rows = []
        for year in years:
            total = by_year[year]["sections"][index]["total"]
            if total["renseigne"]:
                rows.append({**total, "code": str(year), "label": str(year), "sort": str(year)})
        series.append({"dataset": dataset, "dimension": "annee", "dimension_label": "Année",
                       "indicators": by_year[years[0]]["sections"][index]["indicators"]
                       if years else indicators_of(dataset),
                       "rows": rows, "total": None, "id": f"{dataset}-annees",
                       "title": f"{DATASETS[dataset].title} : le territoire année par année"})
    return {
        "threshold": threshold,
        "years": years, "by_year": by_year, "series": series,
        "targets": [memo.get(("target", repr(target),
                              _inputs_version(indicator(target.indicator).dataset, versions)),
                             lambda target=target: target_row(target, data))
                    for target in targets or []],
        "sources": source_list,
        "catalogue": CATALOGUE, "datasets": DATASETS, "breakdown_labels": BREAKDOWN_LABELS,
    }


# The tables a dataset's prepared rows come from (see ``_prepare_one``): pickups are counted
# with the refurbisher's sorting joined in.
INPUTS = {"collecte": ("collecte", "tri")}


def _inputs_version(dataset: str, versions: dict[str, str]) -> str:
    """The version of everything a dataset's prepared rows are made from ("-": no file)."""
    return "+".join(versions.get(name, "-") for name in INPUTS.get(dataset, (dataset,)))


class _Tables(dict):
    """Each table's current rows, read from the warehouse on first use only."""

    def __missing__(self, name: str) -> pd.DataFrame:
        from pipeline.load import warehouse

        frame = self[name] = warehouse.current_rows(name, READ_COLUMNS.get(name))
        return frame


# The largest table is read with only the columns the catalogue uses.
READ_COLUMNS = {"pass": ("commune", "date_distribution", "numero_carnet", "date_utilisation",
                         "valeur_euros", "lieu_utilisation")}


def build_results(territory, now: datetime) -> dict:
    """What the results pages show, from the warehouse, the ledger and territory.toml."""
    from pipeline.config import data_paths
    from pipeline.load import ledger

    threshold, targets = load_results_config()
    entries = ledger.entries()
    partners = {p.id: p.name for p in territory.partners}
    venue_partners = {e.partner for e in entries if e.dataset == "lieux" and e.status != "rejete"}
    covered = {c for p in territory.partners if p.id in venue_partners
               for c in territory.partner_communes(p)}
    coverage = {p.id: list(p.communes) for p in territory.partners}
    memo = ResultsMemo(data_paths().root / "cache" / "resultats",
                       f"{sorted(territory.commune_names.items())!r}|{threshold}")
    results = compute_results(_Tables(), territory.commune_names, now, threshold, targets,
                              sources(entries, partners, coverage), covered, memo,
                              dataset_versions(entries))
    memo.prune()
    return results
