"""A year of results (the commune table of every dataset, the breakdowns), the change since
the year before, and the territory year by year."""

from __future__ import annotations

from pipeline.contracts.datasets import CONTRACTS
from transforms.catalogue import DATASETS, Indicator, indicator, indicators_of
from transforms.results.prepare import DATED, SNAPSHOTS, Prepared
from transforms.results.rates import add_rates
from transforms.results.tables import breakdown_table, commune_table, with_indicators


def commune_sections(year: int, yearly: dict[str, dict], data: Prepared,
                     communes: dict[str, str], threshold: int, covered: set[str] | None,
                     source_list: dict[str, list[dict]],
                     populations: dict[str, int]) -> list[dict]:
    """Every dataset's commune table for ``year``: the dated ones from their yearly tables,
    then the snapshots (the venue directory) as they stand today, with their rates per 1,000
    inhabitants."""
    sections = [with_indicators(yearly[d]["years"].get(year, yearly[d]["empty"])) for d in DATED]
    sections += [commune_table(d, data[d], communes, threshold, covered=covered)
                 for d in SNAPSHOTS]
    for table in sections:
        published = DATASETS[table["dataset"]]
        table.update(id=f"{table['dataset']}-communes", annee=year,
                     source=source_list.get(table["dataset"], []),
                     date_meaning=published.date_meaning)
        add_rates(table, populations, communes)
    return sections


def breakdowns(year: int, data: Prepared, threshold: int) -> list[dict]:
    """The breakdown tables of every dataset's contract: a dated dataset's rows of ``year``
    (held sessions only when it has a held status), a snapshot's rows as they stand."""
    tables = []
    for dataset in DATASETS:
        contract = CONTRACTS[dataset]
        for breakdown in contract.breakdowns:
            rows = data[dataset]
            if contract.date_column and not rows.empty:
                rows = rows[rows["annee"] == year]
            if contract.held_status and not rows.empty:
                rows = rows[rows[contract.status_column] == contract.held_status]
            table = breakdown_table(dataset, breakdown, contract.column(breakdown.column), rows,
                                    threshold)
            table.update(id=f"{dataset}-{breakdown.id}", dimension_label=breakdown.label,
                         annee=year if contract.date_column else None,
                         held_only=bool(contract.held_status))
            tables.append(table)
    return tables


def change(ind: Indicator, now, before) -> dict | None:
    """Year-on-year change of two published values (None when either is not published):
    a difference for counts, in percentage points for rates."""
    if now is None or before is None:
        return None
    return {"delta": round(now - before, 3 if ind.unit == "taux" else ind.decimals)}


def add_changes(by_year: dict[int, dict]) -> None:
    """Each row's change since the year before, on published values only."""
    for year, result in by_year.items():
        before = by_year.get(year - 1)
        for index, table in enumerate(result["sections"]):
            # A snapshot (the venue directory) is the same on every year's page: no change.
            dated = DATASETS[table["dataset"]].date_column is not None
            previous = before["sections"][index] if before and dated else None
            prev_rows = {r["commune"]: r for r in previous["rows"]} if previous else {}
            for row in table["rows"] + [table["total"]]:
                old = prev_rows.get(row["commune"]) if row["commune"] else (
                    previous["total"] if previous else None)
                row["change"] = {
                    i: change(indicator(i), v, old["published"].get(i) if old else None)
                    for i, v in row["published"].items()}


def territory_series(by_year: dict[int, dict], years: list[int]) -> list[dict]:
    """The territory year by year: the total rows of the dated datasets' tables, as published."""
    series = []
    for index, dataset in enumerate(DATED):
        rows = []
        for year in years:
            total = by_year[year]["sections"][index]["total"]
            if total["renseigne"]:
                rows.append({**total, "code": str(year), "label": str(year), "sort": str(year)})
        series.append({"dataset": dataset, "dimension": "annee", "dimension_label": "Année",
                       "indicators": by_year[years[0]]["sections"][index]["indicators"]
                       if years else indicators_of(dataset),
                       "rows": rows, "total": None, "id": f"{dataset}-annees"})
    return series
