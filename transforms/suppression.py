"""Small-count suppression ("secret statistique") of published tables.

Primary: a row (commune, topic…) whose people count is between 1 and ``threshold - 1`` is
withheld. Secondary: a table whose total is published must not have exactly one withheld row,
otherwise total − published rows gives it back; the smallest other published row is withheld
too, until zero or at least two rows are withheld. A withheld row hides every indicator that
would reveal its people count (``Indicator.reveals_people``).
"""

from __future__ import annotations

DEFAULT_THRESHOLD = 5


def is_small(value: float | None, threshold: int) -> bool:
    return value is not None and 0 < value < threshold


def suppress(rows: list[dict], total: dict | None, people: str, threshold: int) -> None:
    """Mark ``row["secret"]`` in place on ``rows`` (each with ``values`` and ``renseigne``) and
    on ``total``. Rows without data are not candidates (they publish nothing)."""
    for row in rows:
        row["secret"] = row["renseigne"] and is_small(row["values"].get(people), threshold)
    if total is not None:
        total["secret"] = is_small(total["values"].get(people), threshold)
        if total["secret"]:
            return
    else:
        return
    while sum(1 for r in rows if r["secret"]) == 1:
        candidates = [r for r in rows if r["renseigne"] and not r["secret"]
                      and r["values"].get(people) is not None]
        if not candidates:
            break
        smallest = min(candidates, key=lambda r: (r["values"][people], r["sort"]))
        smallest["secret"] = True
        smallest["secondary"] = True
