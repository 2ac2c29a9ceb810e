"""Opening hours in the OpenStreetMap ``opening_hours`` syntax, parsed by ``opening_hours_py``
and told in plain French for residents ("du lundi au vendredi de 9 h à 12 h")."""

from __future__ import annotations

import re
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


WEEK_MINUTES = 7 * 24 * 60
EVENING = 17 * 60  # « ouvert après 17 h »: open at some moment after 17:00
LUNCH = (12 * 60, 14 * 60)  # « ouvert entre midi et 14 h »: open all through it


def week_intervals(value: str) -> list[tuple[int, int]]:
    """The usual week's opening intervals in minutes from Monday 00:00, e.g. ``[(540, 720)]``
    for Monday 9:00–12:00. Adjacent intervals are joined, and one running past Sunday
    midnight into Monday is written as one interval ending after the week (``end`` above
    10,080), so a browser can tell « ouvert jusqu'à 2 h » across the week's edge.
    Raises ``opening_hours.ParserError`` like :func:`describe`."""
    hours = opening_hours.OpeningHours(value)
    end_of_week = REFERENCE_MONDAY + timedelta(days=7)
    spans: list[list[int]] = []
    for start, end, state, _comment in hours.intervals(REFERENCE_MONDAY, end_of_week):
        if state != opening_hours.State.OPEN:
            continue
        first = int((start - REFERENCE_MONDAY).total_seconds() // 60)
        last = int((min(end, end_of_week) - REFERENCE_MONDAY).total_seconds() // 60)
        if spans and spans[-1][1] == first:
            spans[-1][1] = last
        elif last > first:
            spans.append([first, last])
    if len(spans) > 1 and spans[0][0] == 0 and spans[-1][1] == WEEK_MINUTES:
        spans[-1][1] += spans.pop(0)[1]
    return [(first, last) for first, last in spans]


def _open_during(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether some interval overlaps ``[start, end)`` (week minutes, wrapping)."""
    return any(first < end + shift and start + shift < last
               for first, last in spans for shift in (0, WEEK_MINUTES))


def facets(spans: list[tuple[int, int]]) -> dict[str, bool]:
    """What residents filter on, from the usual week: open on Saturday, after 17:00 on some
    day, all through 12:00–14:00 on some day, and on each day from Monday to Friday."""
    def covers(start: int, end: int) -> bool:
        return any(first <= start + shift and end + shift <= last
                   for first, last in spans for shift in (0, WEEK_MINUTES))

    day = 24 * 60
    return {
        "samedi": _open_during(spans, 5 * day, 6 * day),
        "soir": any(_open_during(spans, d * day + EVENING, (d + 1) * day) for d in range(7)),
        "midi": any(covers(d * day + LUNCH[0], d * day + LUNCH[1]) for d in range(7)),
        "semaine": all(_open_during(spans, d * day, (d + 1) * day) for d in range(5)),
    }


def public_holidays(value: str) -> str | None:
    """What the hours say of public holidays (``PH``): ``"ferme"`` when closed on them,
    ``"particulier"`` when they have their own hours, None when they say nothing."""
    rules = [rule.strip() for rule in value.split(";")]
    said = [rule for rule in rules if re.match(r"^(?:[A-Za-z]{2}(?:-[A-Za-z]{2})?,)*PH\b", rule)]
    if not said:
        return None
    closed = all(re.search(r"\b(off|closed)\s*$", rule) for rule in said)
    return "ferme" if closed else "particulier"
