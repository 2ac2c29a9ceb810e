"""Rates per 1,000 inhabitants, so that communes of different sizes can be compared.

Only for the catalogue's indicators marked ``per_inhabitants`` (counts of people or places),
only on published values (a withheld small count never gives a rate that would reveal it), and
only where the population is known: the territory's rate needs every commune's population."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

PER = 1000
DECIMALS = 2


def per_inhabitants(value: float | None, population: int | None) -> float | None:
    if value is None or not population:
        return None
    exact = Decimal(value) * PER / Decimal(population)
    return float(exact.quantize(Decimal(1).scaleb(-DECIMALS), rounding=ROUND_HALF_UP))


def territory_population(populations: dict[str, int], communes: dict[str, str]) -> int | None:
    """The territory's population, or None when a commune's is unknown (a partial sum would
    overstate the rate)."""
    if not communes or any(not populations.get(code) for code in communes):
        return None
    return sum(populations[code] for code in communes)


def add_rates(table: dict, populations: dict[str, int], communes: dict[str, str]) -> None:
    """``row["per_1000"]``: indicator -> rate (None when not computable), on every row."""
    rated = [i.id for i in table["indicators"] if i.per_inhabitants]
    whole = territory_population(populations, communes)
    for row in table["rows"] + [table["total"]]:
        population = populations.get(row["commune"]) if row["commune"] else whole
        row["per_1000"] = {i: per_inhabitants(row["published"].get(i), population)
                           for i in rated}
