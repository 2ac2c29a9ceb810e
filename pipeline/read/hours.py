"""Opening hours in the OpenStreetMap ``opening_hours`` syntax, parsed by ``opening_hours_py``
and told in plain French for residents ("du lundi au vendredi de 9 h à 12 h")."""

from __future__ import annotations

from datetime import datetime, timedelta

import opening_hours

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
# A week without public holidays in France, used to read a venue's usual week.
REFERENCE_MONDAY = datetime(2026, 3, 9)


def is_valid(value: str) -> bool:
    try:
        opening_hours.OpeningHours(value)
    except opening_hours.ParserError:
        return False
    return True


def _clock(moment: datetime, is_end: bool = False) -> str:
    if is_end and moment.hour == 0 and moment.minute == 0:
        return "minuit"
    return f"{moment.hour} h {moment.minute:02d}" if moment.minute else f"{moment.hour} h"


def usual_week(value: str) -> list[tuple[str, ...]]:
    """For each day, Monday first, the opening slots as ``"de 9 h à 12 h"`` strings."""
    hours = opening_hours.OpeningHours(value)
    week: list[tuple[str, ...]] = []
    for offset in range(7):
        start = REFERENCE_MONDAY + timedelta(days=offset)
        slots = [f"de {_clock(a)} à {_clock(b, is_end=True)}"
                 for a, b, state, _comment in hours.intervals(start, start + timedelta(days=1))
                 if state == opening_hours.State.OPEN]
        week.append(tuple(slots))
    return week


def _day_span(first: int, last: int) -> str:
    if first == last:
        return f"le {DAYS[first]}"
    if last == first + 1:
        return f"le {DAYS[first]} et le {DAYS[last]}"
    return f"du {DAYS[first]} au {DAYS[last]}"


def describe(value: str) -> list[str]:
    """``"Mo-Fr 09:00-12:00"`` -> ``["Du lundi au vendredi de 9 h à 12 h"]``.

    Raises ``opening_hours.ParserError`` when the value is not valid OSM syntax; callers show
    the value as given in that case.
    """
    week = usual_week(value)
    if all(day == ("de 0 h à minuit",) for day in week):
        return ["Ouvert tous les jours, 24 heures sur 24"]
    lines, day = [], 0
    while day < 7:
        if not week[day]:
            day += 1
            continue
        last = day
        while last + 1 < 7 and week[last + 1] == week[day]:
            last += 1
        text = f"{_day_span(day, last)} {' et '.join(week[day])}"
        lines.append(text[0].upper() + text[1:])
        day = last + 1
    return lines or ["Fermé (aucun horaire d'ouverture régulier)"]
