"""Progress towards the programme targets of territory.toml."""

from __future__ import annotations

from transforms.catalogue import DATASETS, round_value
from transforms.results.config import Target, measuring_indicator, target_problem
from transforms.results.prepare import Prepared


def target_row(target: Target, data: Prepared) -> dict:
    """The indicator over the target's dates (the dataset's date column), against the target.
    Without an indicator that counts what was promised, nothing is measured."""
    ind = measuring_indicator(target)
    row = {"id": target.id, "programme": target.programme, "unite": target.unit,
           "compte": target.counts, "objectif": target.value, "debut": target.start,
           "fin": target.end, "source": target.source, "realise": None, "progression": None,
           "indicateur": ind.id if ind else None, "libelle": ind.label if ind else target.counts,
           "mesurable": target.indicator is not None, "manque": target.measurable_with,
           "probleme": target_problem(target)}
    if ind is None:
        return row
    rows = data[ind.dataset]
    column = DATASETS[ind.dataset].date_column
    if column and not rows.empty:
        dates = rows[column].astype(str)
        rows = rows[(dates >= target.start) & (dates <= target.end)]
    value = round_value(ind, ind.compute(rows)) if not rows.empty else None
    row.update(objectif=round_value(ind, target.value), realise=value,
               progression=round(value / target.value, 3) if value is not None
               and target.value else None)
    return row
