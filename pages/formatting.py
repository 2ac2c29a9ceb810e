"""French formatting of numbers, rates and dates (Babel), shared by the site and downloads."""

from __future__ import annotations

import math
from datetime import date, datetime
from functools import lru_cache

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from markupsafe import Markup

# Parsed once: Babel would otherwise parse "fr_FR" on every call (100,000 pages call these).
LOCALE = Locale.parse("fr_FR")
NOT_REPORTED = "non renseigné"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@lru_cache(maxsize=65536)
def number(value: object, decimals: int = 0) -> str:
    """``12345`` -> ``12 345`` (narrow no-break space, as Babel and the French norm want)."""
    if _missing(value):
        return NOT_REPORTED
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


@lru_cache(maxsize=16384)
def percent(value: object, decimals: int = 1) -> str:
    """``0.452`` -> ``45,2 %``."""
    if _missing(value):
        return NOT_REPORTED
    return format_percent(value, format="#,##0." + "0" * decimals + "\u202f%", locale=LOCALE)


@lru_cache(maxsize=4096)
def long_date(value: date | datetime | str) -> str:
    """``2026-01-31`` -> ``samedi 31 janvier 2026``."""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return format_date(value, format="EEEE d MMMM y", locale=LOCALE)


@lru_cache(maxsize=4096)
def short_date(value: date | datetime | str) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return format_date(value, format="d MMMM y", locale=LOCALE)


@lru_cache(maxsize=4096)
def clock(value: str) -> str:
    """``14:30`` -> ``14 h 30``; ``09:00`` -> ``9 h``."""
    hour, minute = (int(part) for part in value.split(":"))
    return f"{hour} h {minute:02d}" if minute else f"{hour} h"


def duration(minutes: object) -> str:
    if _missing(minutes):
        return NOT_REPORTED
    minutes = int(minutes)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


# (list, html) by the list's id, for the lists of one build; the list is held so that its id
# cannot be given to another object while it is remembered.
_COMMUNE_OPTIONS: dict[int, tuple[list, Markup]] = {}


def commune_options(places: list[dict]) -> Markup:
    """The « Près de quelle commune ? » options: the same 1,000 communes on each of the 2,000
    list pages of a national site, written once per build instead of once per page."""
    remembered = _COMMUNE_OPTIONS.get(id(places))
    if remembered is not None and remembered[0] is places:
        return remembered[1]
    html = Markup("").join(
        Markup('<option value="{}" data-lat="{}" data-lon="{}" data-cp="{}">{}</option>').format(
            c["commune"], c["latitude"], c["longitude"],
            Markup(" ").join(c["codes_postaux"]), c["nom_commune"])
        for c in places)
    if len(_COMMUNE_OPTIONS) >= 8:  # a long-lived process building site after site
        _COMMUNE_OPTIONS.clear()
    _COMMUNE_OPTIONS[id(places)] = (places, html)
    return html
