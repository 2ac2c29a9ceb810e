"""The yearly results as the pages show them: each value worded in French (withheld values,
year-on-year change, targets), a chart per commune table, a small chart per indicator of the
years tables, and the open-data files, added to what ``transforms.results`` computed."""

from __future__ import annotations

from pages import charts, formatting, opendata
from transforms.catalogue import DATASETS, Indicator, indicator

SECRET = "< {threshold}"
# Shown for values withheld because they would reveal a small count (secondary suppression,
# rates and amounts of a withheld row): not "< 5", which would be false.
WITHHELD = "secret"


def _display(ind: Indicator, value, secret: bool, renseigne: bool, threshold: int,
             primary: bool = False) -> str:
    if not renseigne:
        return formatting.NOT_REPORTED
    if secret and ind.reveals_people:
        return SECRET.format(threshold=threshold) if primary else WITHHELD
    if value is None:
        return "sans objet"
    if ind.unit == "taux":
        return formatting.percent(value)
    text = formatting.number(value, ind.decimals)
    return text + " €" if ind.unit == "euros" else text


def _change_text(ind: Indicator, delta: float) -> str:
    """A difference for counts, in percentage points for rates."""
    size = abs(delta) * 100 if ind.unit == "taux" else abs(delta)
    text = formatting.number(size, 1 if ind.unit == "taux" else ind.decimals)
    sign = "+" if delta > 0 else "\u2212" if delta < 0 else ""
    return sign + text + (" pt" if ind.unit == "taux" else "")


def _word_row(row: dict, threshold: int) -> None:
    """The display text of each published indicator of a table row, and of its change."""
    indicators = [indicator(i) for i in row["published"]]
    secret = row.get("secret", False)
    primary_id = DATASETS[indicators[0].dataset].people if indicators else None
    primary = secret and not row.get("secondary", False)
    row["display"] = {i.id: _display(i, row["values"].get(i.id), secret, row["renseigne"],
                                     threshold, primary and i.id == primary_id)
                      for i in indicators}
    row["display_per_1000"] = {
        i: formatting.number(rate, 2) if rate is not None else formatting.NOT_REPORTED
        for i, rate in row.get("per_1000", {}).items()}
    for ind_id, change in row.get("change", {}).items():
        if change is not None:
            change["text"] = _change_text(indicator(ind_id), change["delta"])


NOT_MEASURABLE = "non mesurable avec les données reçues"


def _word_target(target: dict) -> None:
    """A target measured by its indicator; one that no data received can measure says so;
    one misconfigured (unknown indicator, another unit) is « non renseigné »."""
    if target["indicateur"] is None:
        missing = NOT_MEASURABLE if target["mesurable"] is False and not target["probleme"] \
            else formatting.NOT_REPORTED
        unit = "" if target["unite"] == "nombre" else " " + target["unite"]
        target.update(objectif_texte=formatting.number(target["objectif"]) + unit,
                      realise_texte=missing, progression_texte=missing)
        return
    ind = indicator(target["indicateur"])
    reached = target["realise"]
    target.update(
        objectif_texte=_display(ind, target["objectif"], False, True, 0),
        realise_texte=_display(ind, reached, False, reached is not None, 0),
        progression_texte=(formatting.percent(target["progression"])
                           if target["progression"] is not None else formatting.NOT_REPORTED))


def _chart(chart_id: str, title: str, table: dict, ind: Indicator, label: str) -> dict:
    """One bar per row of ``table`` (a commune, a year), named by the row's ``label`` key."""
    bars = [(r[label], r["published"].get(ind.id), r["display"][ind.id]) for r in table["rows"]]
    return charts.bar_chart(chart_id, title, bars)


# How many communes the chart of a long commune table shows (pages.page_plan splits the table).
CHART_COMMUNES = 25


def leading_chart(table: dict, year: int, count: int = CHART_COMMUNES) -> dict:
    """The chart of a table with too many communes to draw them all (a national territory:
    1,000 bars, 256 KB): the ``count`` communes with the highest published headline values,
    highest first. Its caption says where every commune is: the tables by département."""
    ind = indicator(DATASETS[table["dataset"]].headline)
    shown = sorted((r for r in table["rows"] if r["published"].get(ind.id) is not None),
                   key=lambda r: (-r["published"][ind.id], r["nom_commune"]))[:count]
    which = (f"les {len(shown)} communes aux valeurs les plus élevées" if len(shown) > 1
             else "la commune à la valeur la plus élevée" if shown else "aucune valeur publiée")
    return _chart(f"graphique-{table['dataset']}-{year}",
                  f"{ind.label} en {year} : {which} ; toutes les communes dans les tableaux "
                  "par département", {"rows": shown}, ind, "nom_commune")


def _titles(results: dict) -> None:
    """Each table's caption (also its title in the open data)."""
    for year in results["years"]:
        for table in results["by_year"][year]["sections"]:
            table["title"] = f"{DATASETS[table['dataset']].title} en {year}, par commune"
        for table in results["by_year"][year]["breakdowns"]:
            title = DATASETS[table["dataset"]].title
            if table["annee"] is None:  # a snapshot: the same on every year's page
                subject = table["indicators"][0].label
            elif table["held_only"]:
                subject = f"{title} réalisés en {year}"
            else:
                subject = f"{title} en {year}"
            table["title"] = f"{subject}, par {table['dimension_label'].lower()}"
    for table in results["series"]:
        table["title"] = f"{DATASETS[table['dataset']].title} : le territoire année par année"


def add_texts(results: dict) -> dict:
    """``results`` (from ``transforms.results.compute_results``) with its French texts and
    charts, in place."""
    threshold = results["threshold"]
    results["secret_text"] = SECRET.format(threshold=threshold)
    _titles(results)
    tables = [t for year in results["years"] for key in ("sections", "breakdowns")
              for t in results["by_year"][year][key]] + results["series"]
    for table in tables:
        for row in table["rows"] + ([table["total"]] if table["total"] else []):
            _word_row(row, threshold)
    for year in results["years"]:
        for table in results["by_year"][year]["sections"]:
            chart_ind = indicator(DATASETS[table["dataset"]].headline)
            table["chart"] = _chart(f"graphique-{table['dataset']}-{year}",
                                    f"{chart_ind.label} en {year}, par commune", table, chart_ind,
                                    "nom_commune")
    for table in results["series"]:
        table["charts"] = [_chart(f"graphique-{table['id']}-{ind.id}", ind.label, table, ind,
                                  "label") for ind in table["indicators"]]
    for target in results["targets"]:
        _word_target(target)
    return results


def present(results: dict, territory_name: str) -> dict:
    """What the results pages show: ``add_texts``, then the open-data files and their list."""
    add_texts(results)
    results["files"] = opendata.files(results, territory_name)
    results["tables"] = [{"title": t["title"], "path": t["path"]}
                         for t in opendata.published_tables(results)]
    return results
