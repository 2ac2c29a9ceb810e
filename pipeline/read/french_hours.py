"""Opening hours written as a French sentence, read into OpenStreetMap ``opening_hours``.

Directories often hold the week in one free-text cell: « Lundi et Jeudi : 9h à 12h30 et 13h30
à 17h Mardi 9h à 12h30 », « Du lundi au vendredi, de 9h30 à 17h », « 9h-12h et 14h-17h du lundi
au vendredi ». ``read_week`` reads such a cell only when every word of it is understood (days,
day ranges, time slots and the words joining them); anything else — seasons, « sur
rendez-vous », exceptions in brackets, two statements about the same day — gives ``None``, and
the cell is kept as written (the site shows it as given, the report says so). Nothing is
guessed.
"""

from __future__ import annotations

import re
import unicodedata

DAYS = {"lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5,
        "dimanche": 6}
OSM = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY = "(" + "|".join(DAYS) + ")s?"
_TIME = r"(\d{1,2})\s*(?:h\s*(\d{2})?|:(\d{2}))"
_TOKENS = re.compile(
    rf"(?P<range>(?:du\s+)?{_DAY}\s+(?:au|a)\s+{_DAY})"
    rf"|(?P<slot>(?:de\s+)?(\d{{1,2}})\s*(?:h\s*(\d{{2}})?|:(\d{{2}}))?\s*(?:-|a)\s*{_TIME})"
    rf"|(?P<day>{_DAY})")
# What may stand between days and slots: punctuation and linking words, nothing else.
_GLUE = re.compile(r"^(?:[\s,:;/\-.]|\bet\b|\ble\b|\bles\b|\bde\b)*$")


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"\s+", " ", text.replace("–", "-")).strip()


def _minutes(hour: str, minute: str | None) -> int | None:
    h, m = int(hour), int(minute or 0)
    return h * 60 + m if h <= 24 and m < 60 and h * 60 + m <= 24 * 60 else None


def _tokens(text: str) -> list[tuple[str, object]] | None:
    """The cell as a list of ("days", [0..6]) and ("slot", (start, end)), or None when some
    word between them is not a linking word."""
    tokens, position = [], 0
    for match in _TOKENS.finditer(text):
        if not _GLUE.match(text[position:match.start()]):
            return None
        position = match.end()
        if match.group("range"):
            first, last = DAYS[match.group(2)], DAYS[match.group(3)]
            if last < first:
                return None
            tokens.append(("days", list(range(first, last + 1))))
        elif match.group("day"):
            tokens.append(("days", [DAYS[match.group(12)]]))
        else:
            start = _minutes(match.group(5), match.group(6) or match.group(7))
            end = _minutes(match.group(8), match.group(9) or match.group(10))
            if start is None or end is None or end <= start:
                return None
            tokens.append(("slot", (start, end)))
    if not _GLUE.match(text[position:]):
        return None
    return tokens


Group = tuple[list[int], list[tuple[int, int]]]  # days, and their (start, end) in minutes


def _groups(tokens: list[tuple[str, object]]) -> list[Group] | None:
    """Days followed by their slots, repeated; or slots followed by their days, once."""
    runs: list[tuple[str, list]] = []
    for kind, value in tokens:
        if runs and runs[-1][0] == kind:
            runs[-1][1].append(value)
        else:
            runs.append((kind, [value]))
    if len(runs) == 2 and runs[0][0] == "slot":
        runs.reverse()
    if not runs or len(runs) % 2 or any(kind != ("days", "slot")[i % 2]
                                        for i, (kind, _) in enumerate(runs)):
        return None
    return [([d for days in runs[i][1] for d in days], runs[i + 1][1])
            for i in range(0, len(runs), 2)]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def read_week(cell: object) -> str | None:
    """``"Lundi et jeudi : 9h à 12h Mardi 14h-17h"`` -> ``"Mo,Th 09:00-12:00; Tu 14:00-17:00"``;
    None when the cell says anything more than days and hours."""
    text = _plain(str(cell or ""))
    tokens = _tokens(text) if text else None
    groups = _groups(tokens) if tokens else None
    if not groups:
        return None
    week: dict[int, tuple[tuple[int, int], ...]] = {}
    for days, slots in groups:
        for day in days:
            if day in week:  # the same day said twice: an exception we do not read
                return None
            week[day] = tuple(sorted(set(slots)))
    rules: list[tuple[list[int], tuple]] = []
    for day in sorted(week):  # consecutive days with the same hours make one rule (Mo-Fr)
        if rules and rules[-1][1] == week[day] and rules[-1][0][-1] == day - 1:
            rules[-1][0].append(day)
        else:
            rules.append(([day], week[day]))
    return "; ".join(
        (OSM[days[0]] if len(days) == 1 else f"{OSM[days[0]]}-{OSM[days[-1]]}") + " "
        + ",".join(f"{_clock(a)}-{_clock(b)}" for a, b in slots) for days, slots in rules)
