"""Progress towards the programme targets of territory.toml."""

from __future__ import annotations

from transforms.catalogue import DATASETS, indicator, round_value
from transforms.results.config import Target
from transforms.results.prepare import Prepared


def target_row(target: Target, data: Prepared) -> dict:
    """The indicator over the target's dates (the dataset's date column), against the target."""
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
